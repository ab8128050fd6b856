"""A local fake of the Slack Web API on loopback, plus builders for signed incoming requests.

Tests, the demo and the benchmarks point a real ``AsyncWebClient`` at ``SlackSimulator.base_url``
and talk to the app over HTTP with the ``*_body`` builders and ``signed_headers``.

- ``server``: the HTTP server and ``SlackSimulator`` itself;
- ``state``: workspaces, users, stored messages and recorded calls;
- ``web_api``: the Web API methods the app calls;
- ``faults``: scripted failures, held answers and rate limits;
- ``socket_mode``: app-level tokens and the Socket Mode WebSocket (envelopes and acks);
- ``incoming``: request bodies Slack sends to the app; ``signing``: their signatures.
"""

from devkit.slack_sim.incoming import (
    block_action_body,
    event_body,
    slash_command_body,
    view_submission_body,
)
from devkit.slack_sim.server import SlackSimulator
from devkit.slack_sim.signing import sign, signed_headers
from devkit.slack_sim.socket_mode import DEFAULT_APP_TOKEN, Ack
from devkit.slack_sim.state import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_TEAM_ID,
    DEFAULT_TOKEN,
    DEFAULT_USER_ID,
    JsonDict,
    RecordedCall,
    SlackError,
)

__all__ = [
    "DEFAULT_APP_ID",
    "DEFAULT_APP_TOKEN",
    "DEFAULT_BOT_USER_ID",
    "DEFAULT_TEAM_ID",
    "DEFAULT_TOKEN",
    "DEFAULT_USER_ID",
    "Ack",
    "JsonDict",
    "RecordedCall",
    "SlackError",
    "SlackSimulator",
    "block_action_body",
    "event_body",
    "sign",
    "signed_headers",
    "slash_command_body",
    "view_submission_body",
]
