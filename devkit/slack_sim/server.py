"""The simulator's HTTP server on 127.0.0.1: Web API calls, file uploads and response_urls."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from devkit.slack_sim.faults import FaultInjection
from devkit.slack_sim.oauth import OAuthMethods
from devkit.slack_sim.socket_mode import LINK_PATH, SocketMode
from devkit.slack_sim.state import (
    DEFAULT_TEAM_ID,
    DEFAULT_USER_ID,
    JsonDict,
    RecordedCall,
    SlackError,
    json_response,
)
from devkit.slack_sim.web_api import WebApiMethods

# Form fields Slack accepts as JSON strings; decoded so recorded bodies look the same either way.
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "metadata", "view", "files", "unfurls", "user_auth_blocks"}
)


class SlackSimulator(WebApiMethods, OAuthMethods, SocketMode, FaultInjection):
    """A fake Slack Web API server on 127.0.0.1 (random port), recording every call, and
    Socket Mode's WebSocket for apps that connect with an app-level token.

    Defaults: workspace T0001 (token ``xoxb-test-T0001``, bot user UBOT0001) with user U0001;
    no app-level token until a test adds one (``add_app_token``). ``latency`` (seconds, also
    settable later as ``sim.latency``) delays every Web API answer.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        history_limit: int = 1000,
        response_url_max_uses: int = 5,
        latency: float = 0.0,
    ) -> None:
        WebApiMethods.__init__(self, clock=clock, history_limit=history_limit)
        FaultInjection.__init__(self)
        self._init_oauth()
        self._init_socket_mode()
        self._response_url_max_uses = response_url_max_uses
        self._response_urls: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods = self._method_table()
        # Seconds each Web API call takes to answer, like a real network round trip: a real
        # asyncio sleep in the server, so calls overlap as they would over a network.
        self.latency = latency
        self.add_workspace()
        self.add_user(DEFAULT_TEAM_ID, DEFAULT_USER_ID, real_name="Test User")

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_get(LINK_PATH, self._handle_link)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._close_sockets()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:54321/``."""
        if self._port is None:
            raise RuntimeError("SlackSimulator is not started")
        return f"http://127.0.0.1:{self._port}/"

    @property
    def base_url(self) -> str:
        """Web API base URL for ``AsyncWebClient(base_url=...)``."""
        return self.url + "api/"

    def response_url(self, name: str = "") -> str:
        """A fresh response_url on the simulator; POSTs to it are recorded as ``response_url``."""
        key = f"{next(self._ids)}-{name}" if name else str(next(self._ids))
        self._response_urls[key] = 0
        return f"{self.url}response/{key}"

    # ---- HTTP handlers ---------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = await _read_body(request)
        token = _bearer(request) or body.get("token")
        workspace = self._by_token.get(token) if token else None
        call = RecordedCall(
            method=method,
            headers=dict(request.headers),
            body=body,
            at=time.monotonic(),
            url=str(request.rel_url),
            team_id=workspace.team_id if workspace else None,
        )
        self._record(call)

        if self.latency:
            await asyncio.sleep(self.latency)
        scripted = self._scripted_failure(request, call, token)
        if scripted is not None:
            return scripted

        if method == "oauth.v2.access":  # the app's own credentials, no token
            try:
                return json_response({"ok": True, **self._oauth_v2_access(body, _basic(request))})
            except SlackError as error:
                return json_response({"ok": False, "error": error.error})
        app_level = self._app_token_answer(method, token)
        if app_level is not None:
            return app_level
        implementation = self._methods.get(method)
        if implementation is None:
            return _refused(call, "unknown_method")
        if not token:
            return _refused(call, "not_authed")
        if token in self._revoked:
            return _refused(call, "token_revoked")
        if workspace is None:
            return _refused(call, "invalid_auth")

        if method == "chat.postMessage":
            limited = self._chat_post_limited(call, workspace)
            if limited is not None:
                return limited

        try:
            result = implementation(workspace, body)
        except SlackError as error:
            return _refused(call, error.error)
        await self._wait_if_held(method, workspace.team_id)
        headers = {"x-oauth-scopes": ",".join(workspace.scopes)} if method == "auth.test" else None
        return json_response({"ok": True, **result}, headers=headers)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        if request.content_type.startswith("multipart/"):
            content = b""
            reader = await request.multipart()
            async for part in reader:
                content = await part.read()  # type: ignore[union-attr]
                break
        else:
            content = await request.read()
        call = RecordedCall(
            method="upload",
            headers=dict(request.headers),
            body={"file_id": file_id, "length": len(content)},
            at=time.monotonic(),
            url=str(request.rel_url),
        )
        self._record(call)
        scripted = self._scripted_failure(request, call, None)
        if scripted is not None:
            return scripted
        if file_id not in self.files:
            return web.Response(status=404, text="file_not_found", content_type="text/plain")
        self.uploaded_files[file_id] = content
        return web.Response(text=f"OK - {len(content)}", content_type="text/plain")

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        body = await _read_body(request)
        call = RecordedCall(
            method="response_url",
            headers=dict(request.headers),
            body=body,
            at=time.monotonic(),
            url=str(request.url),
        )
        self._record(call)
        scripted = self._scripted_failure(request, call, None)
        if scripted is not None:
            return scripted
        uses = self._response_urls.get(key)
        if uses is None:
            call.failed = "no_such_url"
            return web.Response(status=404, text="no_service", content_type="text/plain")
        if uses >= self._response_url_max_uses:
            call.failed = "used_url"
            return web.Response(status=404, text="used_url", content_type="text/plain")
        self._response_urls[key] = uses + 1
        return json_response({"ok": True})


# ---- request parsing -------------------------------------------------------------------------


async def _read_body(request: web.Request) -> JsonDict:
    body: JsonDict = dict(request.query)
    content_type = request.content_type
    if request.can_read_body:
        if content_type == "application/json":
            raw = await request.read()
            parsed = json.loads(raw) if raw.strip() else {}
            if isinstance(parsed, dict):
                body.update(parsed)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                body[key] = value if isinstance(value, str) else getattr(value, "filename", "")
    for key in _JSON_FIELDS.intersection(body):
        value = body[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # Bad JSON stays a string; the method then answers as Slack does for bad input.
            with contextlib.suppress(ValueError):
                body[key] = json.loads(value)
    return body


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:] if header.startswith("Bearer ") else None


def _basic(request: web.Request) -> tuple[str, str] | None:
    """Client id and secret from HTTP basic auth, as slack_sdk sends them, if it did."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _refused(call: RecordedCall, error: str) -> web.Response:
    """Slack's answer to a call it refused (HTTP 200, ok false), noted on the recorded call."""
    call.failed = error
    return json_response({"ok": False, "error": error})
