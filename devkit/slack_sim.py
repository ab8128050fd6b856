"""A local fake of the Slack Web API on loopback, plus builders for signed incoming requests.

Tests, the demo and the benchmark point a real ``AsyncWebClient`` at ``SlackSimulator.base_url``
and talk to the app over HTTP with the ``*_body`` + ``signed_headers`` helpers below.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

JsonDict = dict[str, Any]

DEFAULT_TEAM_ID = "T0001"
DEFAULT_TOKEN = "xoxb-test-T0001"
DEFAULT_BOT_USER_ID = "UBOT0001"
DEFAULT_USER_ID = "U0001"
DEFAULT_APP_ID = "A0001"

# Form fields Slack accepts as JSON strings; decoded so recorded bodies look the same either way.
_JSON_FIELDS = frozenset(
    {"blocks", "attachments", "metadata", "view", "files", "unfurls", "user_auth_blocks"}
)
_MAX_TEXT = 40_000
_MAX_BLOCKS = 50


@dataclass
class RecordedCall:
    """One request the simulator received (Web API method, upload or response_url POST)."""

    method: str
    headers: dict[str, str]
    body: JsonDict
    at: float
    url: str = ""
    team_id: str | None = None
    failed: str | None = None


@dataclass
class _Failure:
    method: str
    remaining: int
    status: int | None
    retry_after: int | None
    error: str | None
    drop: bool
    token: str | None
    channel: str | None

    def matches(self, method: str, token: str | None, body: Mapping[str, Any]) -> bool:
        if self.remaining <= 0 or self.method not in (method, "*"):
            return False
        if self.token is not None and self.token != token:
            return False
        channel = body.get("channel") or body.get("channel_id")
        return self.channel is None or self.channel == channel

    def describe(self) -> str:
        if self.drop:
            return "drop"
        parts = []
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after}")
        if self.error is not None:
            parts.append(f"error={self.error}")
        return " ".join(parts)


@dataclass
class _TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class _Channel:
    # Insertion order is ts order; bounded by the simulator's history_limit.
    by_ts: OrderedDict[str, JsonDict] = field(default_factory=OrderedDict)


@dataclass
class _Workspace:
    team_id: str
    token: str
    bot_user_id: str
    bot_id: str
    name: str
    domain: str
    users: dict[str, JsonDict] = field(default_factory=dict)
    channels: dict[str, _Channel] = field(default_factory=dict)
    opened_ims: set[str] = field(default_factory=set)
    home_view_ids: dict[str, str] = field(default_factory=dict)


class SlackError(Exception):
    """Raised inside a method implementation to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction.ljust(6, "0")[:6] or 0)


class SlackSimulator:
    """A fake Slack Web API server on 127.0.0.1 (random port), recording every call.

    Defaults: workspace T0001 (token ``xoxb-test-T0001``, bot user UBOT0001) with user U0001.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        history_limit: int = 1000,
        response_url_max_uses: int = 5,
    ) -> None:
        self.calls: list[RecordedCall] = []
        self.uploaded_files: dict[str, bytes] = {}
        self.files: dict[str, JsonDict] = {}
        self.views: dict[str, JsonDict] = {}
        self.ephemeral: list[JsonDict] = []
        self.stats: dict[str, int] = {}
        self._clock = clock
        self._history_limit = history_limit
        self._response_url_max_uses = response_url_max_uses
        self._workspaces: dict[str, _Workspace] = {}
        self._by_token: dict[str, _Workspace] = {}
        self._revoked: set[str] = set()
        self._failures: list[_Failure] = []
        self._holds: dict[str, asyncio.Event] = {}
        self._response_urls: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._channel_rate: float | None = None
        self._workspace_rate: float | None = None
        self._burst: int | None = None
        self._channel_buckets: dict[tuple[str, str], _TokenBucket] = {}
        self._workspace_buckets: dict[str, _TokenBucket] = {}
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, Callable[[_Workspace, JsonDict], JsonDict]] = {
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.publish": self._views_publish,
            "views.update": self._views_update,
            "reactions.add": self._reactions_add,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "team.info": self._team_info,
        }
        # Seconds each Web API call takes to answer, like a real network round trip.
        self.latency = 0.0
        self._reset_stats()
        self.add_workspace()
        self.add_user(DEFAULT_TEAM_ID, DEFAULT_USER_ID, real_name="Test User")

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{key}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
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

    # ---- arranging state -------------------------------------------------------------------

    def add_workspace(
        self,
        team_id: str = DEFAULT_TEAM_ID,
        token: str = DEFAULT_TOKEN,
        bot_user_id: str = DEFAULT_BOT_USER_ID,
        name: str = "Test workspace",
    ) -> None:
        """Add (or replace) a workspace; its bot token identifies it on every call."""
        old = self._workspaces.get(team_id)
        if old is not None:
            self._by_token.pop(old.token, None)
        workspace = _Workspace(
            team_id=team_id,
            token=token,
            bot_user_id=bot_user_id,
            bot_id="B" + team_id.removeprefix("T"),
            name=name,
            domain=name.lower().replace(" ", "-"),
        )
        if old is not None:
            workspace.users = old.users
            workspace.channels = old.channels
        self._workspaces[team_id] = workspace
        self._by_token[token] = workspace
        self._revoked.discard(token)
        workspace.users[bot_user_id] = self._user_record(
            team_id, bot_user_id, "UTC", False, False, False, "Leading Health", is_bot=True
        )

    def add_user(
        self,
        team_id: str,
        user_id: str,
        *,
        tz: str | None = "Pacific/Auckland",
        is_admin: bool = False,
        is_owner: bool = False,
        deleted: bool = False,
        real_name: str | None = None,
    ) -> None:
        """Add (or replace) a user; ``users.info`` and ``conversations.open`` know them.

        ``tz=None`` is a profile without a time zone (Slack then omits ``tz``).
        """
        workspace = self._workspace(team_id)
        workspace.users[user_id] = self._user_record(
            team_id, user_id, tz, is_admin, is_owner, deleted, real_name or f"User {user_id}"
        )

    def revoke(self, token: str) -> None:
        """From now on calls with this token answer ``token_revoked``."""
        self._revoked.add(token)

    def add_message(
        self,
        channel: str,
        *,
        user: str = DEFAULT_USER_ID,
        text: str = "",
        team_id: str = DEFAULT_TEAM_ID,
        thread_ts: str | None = None,
        blocks: list[JsonDict] | None = None,
    ) -> JsonDict:
        """Store a message as if a person had posted it (e.g. a thread reply); returns it."""
        workspace = self._workspace(team_id)
        message: JsonDict = {
            "type": "message",
            "user": user,
            "text": text,
            "ts": self._next_ts(),
            "team": team_id,
        }
        if blocks is not None:
            message["blocks"] = blocks
        if thread_ts is not None:
            message["thread_ts"] = thread_ts
        self._store(workspace, channel, message)
        return dict(message)

    def messages(self, channel: str, *, team_id: str = DEFAULT_TEAM_ID) -> list[JsonDict]:
        """Everything stored in a channel (top level and replies), oldest first."""
        stored = self._workspace(team_id).channels.get(channel)
        return [dict(m) for m in stored.by_ts.values()] if stored else []

    def home_view(self, user_id: str, *, team_id: str = DEFAULT_TEAM_ID) -> JsonDict | None:
        """The Home tab last published for a user, if any."""
        view_id = self._workspace(team_id).home_view_ids.get(user_id)
        return self.views.get(view_id) if view_id else None

    def response_url(self, name: str = "") -> str:
        """A fresh response_url on the simulator; POSTs to it are recorded as ``response_url``."""
        key = f"{next(self._ids)}-{name}" if name else str(next(self._ids))
        self._response_urls[key] = 0
        return f"{self.url}response/{key}"

    # ---- scripting failures and limits -----------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        error: str | None = None,
        drop: bool = False,
        token: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Script the next ``times`` matching calls (``method="*"`` matches any) to fail.

        ``retry_after`` alone means HTTP 429; ``status=429`` alone sends ``Retry-After: 1``;
        ``error`` alone is an HTTP 200 ``{"ok": false, "error": ...}``; ``drop`` closes the socket.
        """
        if status is None and retry_after is None and error is None and not drop:
            raise ValueError("fail() needs one of status, retry_after, error or drop")
        if retry_after is not None and status is None:
            status = 429
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.append(
            _Failure(method, times, status, retry_after, error, drop, token, channel)
        )

    def hold(self, method: str) -> asyncio.Event:
        """Answer no call of ``method`` until the returned event is set: each is done (a message
        is stored) but its answer is still on its way, so a test can act in between (races)."""
        held = self._holds[method] = asyncio.Event()
        return held

    def limit_chat_post(
        self,
        per_channel_per_second: float | None = None,
        workspace_per_minute: int | None = None,
        burst: int | None = None,
    ) -> None:
        """Rate-limit ``chat.postMessage`` with token buckets (all ``None`` switches it off).

        ``burst`` is each bucket's capacity; by default one second's worth of its rate (>= 1).
        """
        self._channel_rate = per_channel_per_second
        self._workspace_rate = workspace_per_minute / 60 if workspace_per_minute else None
        self._burst = burst
        self._channel_buckets.clear()
        self._workspace_buckets.clear()

    # ---- inspecting ------------------------------------------------------------------------

    async def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[RecordedCall]:
        """Wait until `count` calls of `method` have arrived (work the app does after an ack)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(calls := self.calls_to(method)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(calls)} of {count} {method} calls after {timeout}s")
            await asyncio.sleep(0.002)
        return calls

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]

    def clear(self) -> None:
        """Forget recorded calls and stats (workspaces, users and messages stay)."""
        self.calls.clear()
        self._reset_stats()

    def _reset_stats(self) -> None:
        self.stats = {
            "calls": 0,
            "chat_post_allowed": 0,
            "chat_post_limited": 0,
            "scripted_failures": 0,
        }

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
        self.calls.append(call)
        self.stats["calls"] += 1

        if self.latency:
            await asyncio.sleep(self.latency)
        scripted = self._scripted_failure(request, call, token)
        if scripted is not None:
            return scripted

        implementation = self._methods.get(method)
        if implementation is None:
            return _json({"ok": False, "error": "unknown_method"})
        if not token:
            return _json({"ok": False, "error": "not_authed"})
        if token in self._revoked:
            return _json({"ok": False, "error": "token_revoked"})
        if workspace is None:
            return _json({"ok": False, "error": "invalid_auth"})

        if method == "chat.postMessage":
            wait = self._take_chat_post_token(workspace, body)
            if wait:
                call.failed = "ratelimited"
                self.stats["chat_post_limited"] += 1
                return _json(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            self.stats["chat_post_allowed"] += 1

        try:
            result = implementation(workspace, body)
        except SlackError as error:
            return _json({"ok": False, "error": error.error})
        if (held := self._holds.get(method)) is not None:
            await held.wait()
        return _json({"ok": True, **result})

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
        self.calls.append(call)
        self.stats["calls"] += 1
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
        self.calls.append(call)
        self.stats["calls"] += 1
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
        return _json({"ok": True})

    def _scripted_failure(
        self, request: web.Request, call: RecordedCall, token: str | None
    ) -> web.StreamResponse | None:
        for failure in self._failures:
            if failure.matches(call.method, token, call.body):
                break
        else:
            return None
        failure.remaining -= 1
        if failure.remaining <= 0:
            self._failures.remove(failure)
        call.failed = failure.describe()
        self.stats["scripted_failures"] += 1
        if failure.drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp treats this as a lost client; nothing is sent
        status = failure.status or 200
        default_error = "ratelimited" if status == 429 else "internal_error"
        headers = (
            {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        )
        return _json(
            {"ok": False, "error": failure.error or default_error}, status=status, headers=headers
        )

    def _take_chat_post_token(self, workspace: _Workspace, body: JsonDict) -> int:
        """0 when the post may go ahead (tokens taken), else the Retry-After in seconds."""
        if self._channel_rate is None and self._workspace_rate is None:
            return 0
        now = time.monotonic()
        buckets: list[_TokenBucket] = []
        if self._channel_rate:
            key = (workspace.team_id, _dm_channel(str(body.get("channel", ""))))
            buckets.append(self._bucket(self._channel_buckets, key, self._channel_rate, now))
        if self._workspace_rate:
            buckets.append(
                self._bucket(self._workspace_buckets, workspace.team_id, self._workspace_rate, now)
            )
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return 0

    def _bucket(
        self, buckets: dict[Any, _TokenBucket], key: Any, rate: float, now: float
    ) -> _TokenBucket:
        bucket = buckets.get(key)
        if bucket is None:
            capacity = float(self._burst) if self._burst is not None else max(1.0, rate)
            bucket = buckets[key] = _TokenBucket(rate, capacity, capacity, now)
        return bucket

    # ---- storage ---------------------------------------------------------------------------

    def _workspace(self, team_id: str) -> _Workspace:
        try:
            return self._workspaces[team_id]
        except KeyError:
            raise KeyError(f"unknown workspace {team_id}; call add_workspace first") from None

    def _next_ts(self) -> str:
        micros = max(int(self._clock() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _store(self, workspace: _Workspace, channel: str, message: JsonDict) -> None:
        stored = workspace.channels.get(channel)
        if stored is None:
            stored = workspace.channels[channel] = _Channel()
        stored.by_ts[message["ts"]] = message
        if len(stored.by_ts) > self._history_limit:
            stored.by_ts.popitem(last=False)
        thread_ts = message.get("thread_ts")
        parent = stored.by_ts.get(thread_ts) if thread_ts else None
        if parent is not None and parent is not message:
            parent["thread_ts"] = thread_ts
            parent["reply_count"] = parent.get("reply_count", 0) + 1
            parent["latest_reply"] = message["ts"]
            users = parent.setdefault("reply_users", [])
            author = message.get("user")
            if author and author not in users:
                users.append(author)

    def _find(self, workspace: _Workspace, channel: str, ts: str) -> JsonDict:
        stored = workspace.channels.get(channel)
        message = stored.by_ts.get(ts) if stored else None
        if message is None:
            raise SlackError("message_not_found")
        return message

    def _user_record(
        self,
        team_id: str,
        user_id: str,
        tz: str | None,
        is_admin: bool,
        is_owner: bool,
        deleted: bool,
        real_name: str,
        *,
        is_bot: bool = False,
    ) -> JsonDict:
        try:
            ZoneInfo(tz or "UTC")
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {tz!r}") from error
        name = real_name.lower().replace(" ", ".")
        return {
            "id": user_id,
            "team_id": team_id,
            "name": name,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "is_admin": is_admin,
            "is_owner": is_owner,
            "is_primary_owner": is_owner,
            "is_bot": is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "real_name_normalized": real_name,
                "display_name_normalized": name,
                "team": team_id,
            },
        }

    def _user_view(self, user: JsonDict) -> JsonDict:
        if user["tz"] is None:
            return {key: value for key, value in user.items() if key != "tz"}
        zone = ZoneInfo(user["tz"])
        now = datetime.fromtimestamp(self._clock(), UTC).astimezone(zone)
        offset = now.utcoffset()
        return {
            **user,
            "tz_label": now.tzname() or user["tz"],
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "updated": int(self._clock()),
        }

    def _bot_message(self, workspace: _Workspace, ts: str, body: JsonDict) -> JsonDict:
        message: JsonDict = {
            "type": "message",
            "user": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "app_id": DEFAULT_APP_ID,
            "text": body.get("text") or "",
            "ts": ts,
            "team": workspace.team_id,
        }
        for key in ("blocks", "attachments", "metadata"):
            if body.get(key) is not None:
                message[key] = body[key]
        return message

    # ---- Web API methods -------------------------------------------------------------------

    def _apps_connections_open(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        # The simulator has no app-level (xapp-) tokens: an unknown token already answers
        # invalid_auth, and a bot token is the wrong kind for Socket Mode.
        raise SlackError("not_allowed_token_type")

    def _auth_test(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        return {
            "url": f"https://{workspace.domain}.slack.com/",
            "team": workspace.name,
            "user": "leading-health",
            "team_id": workspace.team_id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    def _team_info(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        team = body.get("team")
        if team and team != workspace.team_id:
            raise SlackError("team_not_found")
        return {
            "team": {
                "id": workspace.team_id,
                "name": workspace.name,
                "domain": workspace.domain,
                "email_domain": "",
                "icon": {"image_default": True},
            }
        }

    def _message_checks(self, body: JsonDict) -> None:
        if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
            raise SlackError("no_text")
        if len(str(body.get("text") or "")) > _MAX_TEXT:
            raise SlackError("msg_too_long")
        blocks = body.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > _MAX_BLOCKS):
            raise SlackError("invalid_blocks")
        metadata = body.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str)
        ):
            raise SlackError("invalid_metadata_format")

    def _chat_post_message(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        channel = _dm_channel(str(body.get("channel") or ""))
        if not channel:
            raise SlackError("channel_not_found")
        self._message_checks(body)
        ts = self._next_ts()
        message = self._bot_message(workspace, ts, body)
        thread_ts = body.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            if _truthy(body.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        self._store(workspace, channel, message)
        return {"channel": channel, "ts": ts, "message": dict(message)}

    def _chat_post_ephemeral(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        channel = _dm_channel(str(body.get("channel") or ""))
        if not channel:
            raise SlackError("channel_not_found")
        user = body.get("user")
        if not user:
            raise SlackError("user_not_found")
        self._message_checks(body)
        ts = self._next_ts()
        self.ephemeral.append(
            {"team_id": workspace.team_id, "channel": channel, "user": user}
            | self._bot_message(workspace, ts, body)
        )
        return {"message_ts": ts}

    def _chat_update(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        channel = _dm_channel(str(body.get("channel") or ""))
        message = self._find(workspace, channel, str(body.get("ts") or ""))
        if message.get("bot_id") != workspace.bot_id:
            raise SlackError("cant_update_message")
        if not any(body.get(key) for key in ("text", "blocks", "attachments")):
            raise SlackError("no_text")
        self._message_checks(body)
        # Like Slack: fields left out keep their previous value; an empty list clears them.
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in body:
                message[key] = body[key]
        message["edited"] = {"user": workspace.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message.get("text", ""),
            "message": dict(message),
        }

    def _chat_delete(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        channel = _dm_channel(str(body.get("channel") or ""))
        ts = str(body.get("ts") or "")
        message = self._find(workspace, channel, ts)
        if message.get("bot_id") != workspace.bot_id:
            raise SlackError("cant_delete_message")
        del workspace.channels[channel].by_ts[ts]
        return {"channel": channel, "ts": ts}

    def _chat_get_permalink(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        channel = str(body.get("channel") or "")
        ts = str(body.get("message_ts") or "")
        self._find(workspace, channel, ts)
        return {
            "channel": channel,
            "permalink": f"https://{workspace.domain}.slack.com/archives/{channel}/p"
            + ts.replace(".", ""),
        }

    def _conversations_open(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        if body.get("channel"):
            return {"channel": {"id": body["channel"]}}
        users_value = body.get("users") or ""
        user_ids = users_value if isinstance(users_value, list) else str(users_value).split(",")
        user_ids = [u.strip() for u in user_ids if u.strip()]
        if not user_ids:
            raise SlackError("users_list_not_supplied")
        if len(user_ids) > 8:
            raise SlackError("too_many_users")
        for user_id in user_ids:
            user = workspace.users.get(user_id)
            if user is None:
                raise SlackError("user_not_found")
            if user_id == workspace.bot_user_id:
                raise SlackError("cannot_dm_bot")
            if user["deleted"]:
                raise SlackError("user_disabled")
        if len(user_ids) == 1:
            channel_id = "D" + user_ids[0]
        else:
            digest = hashlib.sha1(",".join(sorted(user_ids)).encode()).hexdigest()
            channel_id = "G" + digest[:10].upper()
        already_open = channel_id in workspace.opened_ims
        workspace.opened_ims.add(channel_id)
        result: JsonDict = {"channel": {"id": channel_id}}
        if already_open:
            result |= {"no_op": True, "already_open": True}
        return result

    def _page(
        self, messages: list[JsonDict], body: JsonDict, *, newest_first: bool
    ) -> tuple[list[JsonDict], bool]:
        oldest = str(body.get("oldest") or "0")
        latest = body.get("latest")
        inclusive = _truthy(body.get("inclusive"))
        with_metadata = _truthy(body.get("include_all_metadata"))
        try:
            limit = max(1, min(int(body.get("limit") or 100), 999))
        except ValueError as error:
            raise SlackError("invalid_limit") from error
        cursor = body.get("cursor")
        low = _ts_key(oldest)
        high = _ts_key(str(latest)) if latest else None
        picked: list[JsonDict] = []
        ordered = reversed(messages) if newest_first else iter(messages)
        skipping = bool(cursor)
        for message in ordered:
            if skipping:
                skipping = message["ts"] != cursor
                continue
            key = _ts_key(message["ts"])
            if (key < low or (key == low and not inclusive)) and oldest != "0":
                continue
            if high is not None and (key > high or (key == high and not inclusive)):
                continue
            if len(picked) == limit:
                return picked, True
            picked.append(message if with_metadata else _without_metadata(message))
        return picked, False

    def _conversations_history(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        channel = str(body.get("channel") or "")
        if not channel:
            raise SlackError("channel_not_found")
        stored = workspace.channels.get(channel)
        top_level = [
            m
            for m in (stored.by_ts.values() if stored else ())
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        picked, has_more = self._page(top_level, body, newest_first=True)
        result: JsonDict = {"messages": picked, "has_more": has_more, "pin_count": 0}
        if has_more:
            result["response_metadata"] = {"next_cursor": picked[-1]["ts"]}
        return result

    def _conversations_replies(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        channel = str(body.get("channel") or "")
        ts = str(body.get("ts") or "")
        stored = workspace.channels.get(channel)
        if stored is None or ts not in stored.by_ts:
            raise SlackError("thread_not_found")
        thread = [m for m in stored.by_ts.values() if m["ts"] == ts or m.get("thread_ts") == ts]
        picked, has_more = self._page(thread, body, newest_first=False)
        result: JsonDict = {"messages": picked, "has_more": has_more}
        if has_more:
            result["response_metadata"] = {"next_cursor": picked[-1]["ts"]}
        return result

    def _users_info(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        user = workspace.users.get(str(body.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": self._user_view(user)}

    def _users_list(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        return {
            "members": [self._user_view(u) for u in workspace.users.values()],
            "response_metadata": {"next_cursor": ""},
        }

    def _build_view(
        self, workspace: _Workspace, spec: Any, *, view_id: str | None = None
    ) -> JsonDict:
        if not isinstance(spec, dict) or "type" not in spec:
            raise SlackError("invalid_arguments")
        if len(spec.get("blocks") or []) > 100:
            raise SlackError("invalid_blocks")
        view_id = view_id or f"V{next(self._ids):010d}"
        previous = self.views.get(view_id, {})
        view = {
            "id": view_id,
            "team_id": workspace.team_id,
            "app_id": DEFAULT_APP_ID,
            "bot_id": workspace.bot_id,
            "app_installed_team_id": workspace.team_id,
            "type": spec["type"],
            "title": spec.get("title"),
            "submit": spec.get("submit"),
            "close": spec.get("close"),
            "blocks": spec.get("blocks", []),
            "private_metadata": spec.get("private_metadata", ""),
            "callback_id": spec.get("callback_id", ""),
            "external_id": spec.get("external_id", previous.get("external_id", "")),
            "state": {"values": {}},
            "hash": f"{int(self._clock())}.{next(self._ids)}",
            "clear_on_close": bool(spec.get("clear_on_close", False)),
            "notify_on_close": bool(spec.get("notify_on_close", False)),
            "root_view_id": previous.get("root_view_id", view_id),
            "previous_view_id": None,
        }
        self.views[view_id] = view
        return view

    def _views_open(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        if not body.get("trigger_id") and not body.get("interactivity_pointer"):
            raise SlackError("invalid_arguments")
        return {"view": self._build_view(workspace, body.get("view"))}

    def _views_publish(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        user_id = str(body.get("user_id") or "")
        if user_id not in workspace.users:
            raise SlackError("user_not_found")
        spec = body.get("view")
        if not isinstance(spec, dict) or spec.get("type") != "home":
            raise SlackError("invalid_arguments")
        existing = workspace.home_view_ids.get(user_id)
        if existing and body.get("hash") and self.views[existing]["hash"] != body["hash"]:
            raise SlackError("hash_conflict")
        view = self._build_view(workspace, spec, view_id=existing)
        workspace.home_view_ids[user_id] = view["id"]
        return {"view": view}

    def _views_update(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        view_id = body.get("view_id")
        external_id = body.get("external_id")
        if not view_id and external_id:
            view_id = next(
                (v["id"] for v in self.views.values() if v["external_id"] == external_id), None
            )
        if not view_id or view_id not in self.views:
            raise SlackError("not_found")
        if body.get("hash") and self.views[view_id]["hash"] != body["hash"]:
            raise SlackError("hash_conflict")
        return {"view": self._build_view(workspace, body.get("view"), view_id=view_id)}

    def _reactions_add(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        name = str(body.get("name") or "")
        if not name:
            raise SlackError("invalid_name")
        channel = str(body.get("channel") or "")
        stored = workspace.channels.get(channel)
        # Lenient on purpose: tests often react to messages only seen through an event.
        message = stored.by_ts.get(str(body.get("timestamp") or "")) if stored else None
        if message is not None:
            reactions = message.setdefault("reactions", [])
            reaction = next((r for r in reactions if r["name"] == name), None)
            if reaction is None:
                reaction = {"name": name, "users": [], "count": 0}
                reactions.append(reaction)
            if workspace.bot_user_id in reaction["users"]:
                raise SlackError("already_reacted")
            reaction["users"].append(workspace.bot_user_id)
            reaction["count"] += 1
        return {}

    def _files_get_upload_url(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        filename = body.get("filename")
        length = body.get("length")
        if not filename or length in (None, ""):
            raise SlackError("invalid_arguments")
        file_id = f"F{next(self._ids):010d}"
        self.files[file_id] = {
            "id": file_id,
            "name": filename,
            "title": filename,
            "size": int(length),
            "team_id": workspace.team_id,
            "alt_txt": body.get("alt_txt"),
        }
        return {"upload_url": f"{self.url}upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, workspace: _Workspace, body: JsonDict) -> JsonDict:
        entries = body.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        completed: list[JsonDict] = []
        for entry in entries:
            file_id = entry.get("id")
            meta = self.files.get(file_id) if file_id else None
            if meta is None or file_id not in self.uploaded_files:
                raise SlackError("file_not_found")
            meta["title"] = entry.get("title") or meta["name"]
            meta["size"] = len(self.uploaded_files[file_id])
            completed.append(
                {
                    "id": file_id,
                    "created": int(self._clock()),
                    "name": meta["name"],
                    "title": meta["title"],
                    "size": meta["size"],
                    "user": workspace.bot_user_id,
                    "url_private": f"{self.url}files/{file_id}",
                }
            )
        channels = [body["channel_id"]] if body.get("channel_id") else []
        if body.get("channels"):
            channels += str(body["channels"]).split(",")
        for channel in channels:
            message = self._bot_message(
                workspace, self._next_ts(), {"text": body.get("initial_comment") or ""}
            )
            message["files"] = completed
            message["upload"] = True
            if body.get("thread_ts"):
                message["thread_ts"] = str(body["thread_ts"])
            self._store(workspace, channel, message)
        return {"files": completed}


# ---- request parsing helpers ---------------------------------------------------------------


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


def _dm_channel(channel: str) -> str:
    # Posting to a user id lands in the app's DM with them, as on Slack.
    return "D" + channel if channel.startswith(("U", "W")) else channel


def _without_metadata(message: JsonDict) -> JsonDict:
    if "metadata" not in message:
        return message
    return {k: v for k, v in message.items() if k != "metadata"}


def _json(
    payload: JsonDict, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


# ---- signed incoming requests --------------------------------------------------------------


def sign(signing_secret: str, body: str | bytes, timestamp: int | str) -> str:
    """Slack's v0 request signature for ``body`` sent at ``timestamp``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    signing_secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack sends with an incoming request (pass ``content_type`` for JSON events)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(signing_secret, body, ts),
    }


def _team_user(team_id: str, user_id: str) -> tuple[JsonDict, JsonDict]:
    team = {"id": team_id, "domain": f"team-{team_id.lower()}"}
    user = {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id}
    return team, user


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
) -> str:
    """A slash command request body, form-encoded in the field order Slack uses."""
    return urlencode(
        {
            "token": "verification-token",
            "team_id": team_id,
            "team_domain": f"team-{team_id.lower()}",
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel_id.startswith("D") else "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": api_app_id,
            "is_enterprise_install": "false",
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
) -> str:
    """A ``block_actions`` interactivity request body (``payload=<json>``, form-encoded).

    With ``view`` it is a click in a modal or the Home tab; otherwise a click on a message
    in ``channel_id`` (default C0001). ``action_type="static_select"`` sends ``selected_option``.
    """
    team, user = _team_user(team_id, user_id)
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
        "enterprise": None,
        "is_enterprise_install": False,
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
) -> str:
    """A ``view_submission`` body; ``values`` is ``{block_id: {action_id: {type, value...}}}``."""
    team, user = _team_user(team_id, user_id)
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
            "app_installed_team_id": team_id,
            "bot_id": "B" + team_id.removeprefix("T"),
        },
        "response_urls": response_urls or [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(
    event: JsonDict,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    api_app_id: str = DEFAULT_APP_ID,
    event_id: str | None = None,
    bot_user_id: str = DEFAULT_BOT_USER_ID,
) -> str:
    """A JSON ``event_callback`` envelope around ``event`` (send with application/json)."""
    now = int(time.time())
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": team_id,
            "api_app_id": api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{time.monotonic_ns():012d}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team_id,
                    "user_id": bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{team_id}-{now}",
        }
    )
