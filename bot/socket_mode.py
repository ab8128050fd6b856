"""Socket Mode: Slack's requests arrive over a WebSocket the app opens, not as signed HTTP.

The connection itself proves the sender (the app-level token opened it), so there is no
signature to check; the rest of what `bot.web` does for a request happens here too: the body's
shape is checked before Bolt reads it, and each answer gets its log line and metrics.
"""

from __future__ import annotations

import logging
import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import (
    run_async_bolt_app,
    send_async_response,
)
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot import metrics
from bot.foreground import Foreground
from bot.inbound import Rejected, check_body
from bot.web import record_answer

logger = logging.getLogger(__name__)


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    def __init__(self, app: AsyncApp, app_token: str, foreground: Foreground) -> None:
        super().__init__(app, app_token)
        self._foreground = foreground  # the fan-out in this process gives way while we answer

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        with self._foreground.answering():
            await self._answer(client, req)

    async def _answer(self, client: SocketModeClient, req: SocketModeRequest) -> None:
        started, wall_clock = time.monotonic(), time.time()
        try:
            check_body(req.payload)
        except Rejected as rejected:
            # Acked all the same: Slack would only send it again. The reason names a field,
            # never its value.
            logger.warning("refused a Socket Mode %s envelope: %s", req.type, rejected.reason)
            metrics.REQUESTS.labels("unknown", "refused").inc()
            await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))
            return
        answer = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, answer, wall_clock)
        record_answer(req.payload, answer.status, started)
