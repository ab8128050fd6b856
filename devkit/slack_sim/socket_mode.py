"""Socket Mode: the WebSocket an app opens to Slack instead of taking HTTP requests.

As on Slack: `apps.connections.open` with an app-level token (``xapp-…``, see
``add_app_token``) answers a one-time ``ws://`` URL on the simulator. The app connects, gets
``hello``, and then each request arrives as an envelope
``{"envelope_id", "type", "payload", "accepts_response_payload"}`` with ``type``
``slash_commands``, ``interactive`` or ``events_api``; the app answers each with an ack
``{"envelope_id", "payload"?}``. The simulator records every ack so a test can read it (a slash
command's answer is in its ack's payload). Any other token kind is refused as Slack refuses it.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from devkit.slack_sim.state import DEFAULT_APP_ID, JsonDict, SimulatorState, json_response

DEFAULT_APP_TOKEN = "xapp-1-A0001-1-simulator"
ENVELOPE_KINDS = frozenset({"slash_commands", "interactive", "events_api"})
LINK_PATH = "/link/"


@dataclass
class Ack:
    """The app's answer to one envelope; `payload` is None for a bare acknowledgement."""

    envelope_id: str
    payload: JsonDict | None
    at: float


class SocketMode(SimulatorState):
    """Slack's side of Socket Mode: app-level tokens, connections, envelopes and acks."""

    @property
    def url(self) -> str:
        """The simulator's root URL, given by the server."""
        raise NotImplementedError

    def _init_socket_mode(self) -> None:
        self._app_tokens: set[str] = set()
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._retiring: list[web.WebSocketResponse] = []  # told to reconnect; sent nothing more
        self.envelopes: list[JsonDict] = []  # what went down the socket, in order
        self.acks: dict[str, Ack] = {}  # by envelope id

    def add_app_token(self, token: str = DEFAULT_APP_TOKEN) -> str:
        """An app-level token with connections:write, as made on the app's settings page."""
        if not token.startswith("xapp-"):
            raise ValueError("app-level tokens start with xapp-")
        self._app_tokens.add(token)
        return token

    @property
    def sockets_open(self) -> int:
        return len(self._sockets)

    def _live(self) -> list[web.WebSocketResponse]:
        return [socket for socket in self._sockets if socket not in self._retiring]

    # ---- Web API ---------------------------------------------------------------------------

    def _app_token_answer(self, method: str, token: str | None) -> web.Response | None:
        """The answer to a call made with an app-level token, or None for any other token."""
        if token not in self._app_tokens:
            return None
        if method != "apps.connections.open":
            return json_response({"ok": False, "error": "not_allowed_token_type"})
        ticket = f"ticket-{next(self._ids)}"
        self._tickets.add(ticket)
        link = self.url.replace("http://", "ws://", 1).rstrip("/") + LINK_PATH
        return json_response({"ok": True, "url": f"{link}?ticket={ticket}&app_id={DEFAULT_APP_ID}"})

    # ---- the WebSocket ---------------------------------------------------------------------

    async def _handle_link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:  # each URL connects once; ask for a new one after
            return web.Response(status=401, text="invalid_ticket", content_type="text/plain")
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        try:
            await socket.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {
                        "host": "applink-simulator",
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": DEFAULT_APP_ID},
                }
            )
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    self._take_ack(json.loads(message.data))
        finally:
            self._sockets.remove(socket)
            if socket in self._retiring:
                self._retiring.remove(socket)
        return socket

    def _take_ack(self, message: JsonDict) -> None:
        envelope_id = message.get("envelope_id")
        if isinstance(envelope_id, str) and envelope_id not in self.acks:
            payload = message.get("payload")
            self.acks[envelope_id] = Ack(
                envelope_id, payload if isinstance(payload, dict) else None, time.monotonic()
            )

    async def _close_sockets(self) -> None:
        for socket in list(self._sockets):
            await socket.close()

    # ---- driving the app -------------------------------------------------------------------

    async def refresh_sockets(self) -> None:
        """Ask every open connection to reconnect, as Slack does every few hours; nothing more
        is sent down them, and the app is expected to open a new one."""
        for socket in self._live():
            self._retiring.append(socket)
            await socket.send_json(
                {
                    "type": "disconnect",
                    "reason": "refresh_requested",
                    "debug_info": {"host": "applink-simulator"},
                }
            )

    async def wait_for_socket(self, timeout: float = 10.0) -> None:
        """Wait until the app has a Socket Mode connection open (and not asked to go)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._live():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no Socket Mode connection after {timeout}s")
            await asyncio.sleep(0.005)

    async def deliver(
        self, kind: str, payload: JsonDict, *, accepts_response_payload: bool = False
    ) -> str:
        """Send one envelope down the newest connection, as Slack does; its envelope id."""
        if kind not in ENVELOPE_KINDS:
            raise ValueError(f"Slack sends no {kind!r} envelopes")
        await self.wait_for_socket()
        envelope: JsonDict = {
            "envelope_id": f"env-{next(self._ids):08d}",
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope |= {"retry_attempt": 0, "retry_reason": ""}
        self.envelopes.append(envelope)
        await self._live()[-1].send_json(envelope)
        return str(envelope["envelope_id"])

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> Ack:
        """The app's ack of that envelope (Slack gives an app 3 seconds)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while envelope_id not in self.acks:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no ack for {envelope_id} after {timeout}s")
            await asyncio.sleep(0.002)
        return self.acks[envelope_id]
