"""Bodies of the requests Slack sends to the app: slash commands, clicks, modal submissions and
events, shaped and encoded as Slack sends them. Sign them with ``signing.signed_headers``.

Enterprise Grid: give ``enterprise_id`` for a workspace of an org, and ``org_wide=True`` when
the app is installed for the whole org. Slack then names the org in every request, and an
org-wide install's requests carry no `team` object in interactivity payloads, a null team in
an event's `authorizations`, and the org as the modal's `app_installed_team_id`.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from devkit.slack_sim.state import (
    DEFAULT_APP_ID,
    DEFAULT_BOT_USER_ID,
    DEFAULT_TEAM_ID,
    DEFAULT_USER_ID,
    JsonDict,
)


def _team_user(
    team_id: str, user_id: str, enterprise_id: str | None, org_wide: bool
) -> tuple[JsonDict | None, JsonDict]:
    team: JsonDict = {"id": team_id, "domain": f"team-{team_id.lower()}"}
    if enterprise_id:
        team |= {"enterprise_id": enterprise_id, "enterprise_name": _org_name(enterprise_id)}
    user = {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}
    # Org-wide installs: no `team`; the workspace is only on the user.
    return (None if org_wide else team), user


def _org_name(enterprise_id: str) -> str:
    return f"Org {enterprise_id}"


def _enterprise(enterprise_id: str | None) -> JsonDict | None:
    if enterprise_id is None:
        return None
    return {"id": enterprise_id, "name": _org_name(enterprise_id)}


def _trigger_id() -> str:
    return f"{int(time.time())}.{time.monotonic_ns() % 10**12}.trigger"


def slash_command_body(
    text: str,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    user_id: str = DEFAULT_USER_ID,
    channel_id: str = "C0001",
    command: str = "/leading-tip",
    response_url: str,
    trigger_id: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> str:
    """A slash command request body, form-encoded in the field order Slack uses."""
    org = {}
    if enterprise_id:
        org = {"enterprise_id": enterprise_id, "enterprise_name": _org_name(enterprise_id)}
    return urlencode(
        {
            "token": "verification-token",
            "team_id": team_id,
            "team_domain": f"team-{team_id.lower()}",
            **org,
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel_id.startswith("D") else "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "true" if org_wide else "false",
            "response_url": response_url,
            "trigger_id": trigger_id or _trigger_id(),
        }
    )


def block_action_body(
    action_id: str,
    value: str,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    user_id: str = DEFAULT_USER_ID,
    response_url: str | None = None,
    channel_id: str | None = None,
    message: JsonDict | None = None,
    container: JsonDict | None = None,
    view: JsonDict | None = None,
    block_id: str = "actions",
    action_type: str = "button",
    trigger_id: str | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> str:
    """A ``block_actions`` interactivity request body (``payload=<json>``, form-encoded).

    With ``view`` it is a click in a modal or the Home tab; otherwise a click on a message
    in ``channel_id`` (default C0001). ``action_type="static_select"`` sends ``selected_option``.
    """
    team, user = _team_user(team_id, user_id, enterprise_id, org_wide)
    action: JsonDict = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if action_type == "button":
        action |= {"value": value, "text": {"type": "plain_text", "text": value, "emoji": True}}
    elif action_type in ("static_select", "radio_buttons", "overflow"):
        action["selected_option"] = {
            "text": {"type": "plain_text", "text": value, "emoji": True},
            "value": value,
        }
    else:
        action["value"] = value
    payload: JsonDict = {
        "type": "block_actions",
        "user": user,
        "api_app_id": api_app_id,
        "token": "verification-token",
        "trigger_id": trigger_id or _trigger_id(),
        "team": team,
        "enterprise": _enterprise(enterprise_id),
        "is_enterprise_install": org_wide,
        "state": {"values": {}},
        "actions": [action],
    }
    if view is not None:
        payload["view"] = view
        payload["container"] = container or {
            "type": "view",
            "view_id": view.get("id", "V0000000001"),
        }
        if channel_id is not None:
            payload["channel"] = {"id": channel_id, "name": "general"}
    else:
        channel = channel_id or (message or {}).get("channel") or "C0001"
        payload["channel"] = {
            "id": channel,
            "name": "directmessage" if channel.startswith("D") else "general",
        }
        payload["container"] = container or {
            "type": "message",
            "message_ts": (message or {}).get("ts", "1700000000.000100"),
            "channel_id": channel,
            "is_ephemeral": False,
        }
    if message is not None:
        payload["message"] = message
    if response_url is not None:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    callback_id: str,
    values: JsonDict,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    user_id: str = DEFAULT_USER_ID,
    private_metadata: str = "",
    view_id: str = "V0000000001",
    blocks: list[JsonDict] | None = None,
    title: str = "Leading Health",
    response_urls: list[JsonDict] | None = None,
    api_app_id: str = DEFAULT_APP_ID,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> str:
    """A ``view_submission`` body; ``values`` is ``{block_id: {action_id: {type, value...}}}``."""
    team, user = _team_user(team_id, user_id, enterprise_id, org_wide)
    installed_in = enterprise_id if org_wide and enterprise_id else team_id
    payload = {
        "type": "view_submission",
        "team": team,
        "user": user,
        "api_app_id": api_app_id,
        "token": "verification-token",
        "trigger_id": _trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": "1700000000.abcdef",
            "title": {"type": "plain_text", "text": title, "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
            "submit": {"type": "plain_text", "text": "Save", "emoji": True},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": api_app_id,
            "external_id": "",
            "app_installed_team_id": installed_in,
            "bot_id": "B" + installed_in.removeprefix("T"),
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": org_wide,
        "enterprise": _enterprise(enterprise_id),
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(
    event: JsonDict,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    api_app_id: str = DEFAULT_APP_ID,
    event_id: str | None = None,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> str:
    """A JSON ``event_callback`` envelope around ``event`` (send with application/json).

    The envelope's `team_id` is always the workspace the event happened in; for an org-wide
    install the authorization names only the org."""
    now = int(time.time())
    grid: JsonDict = {}
    if enterprise_id:
        grid = {
            "enterprise_id": enterprise_id,
            "context_team_id": team_id,
            "context_enterprise_id": enterprise_id,
        }
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": team_id,
            **grid,
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns():012d}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": None if org_wide else team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": org_wide,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{team_id}-{now}",
        }
    )
