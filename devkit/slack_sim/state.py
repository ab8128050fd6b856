"""What the simulated Slack holds: workspaces, users, channels and the calls it received.

Also the small pieces every part of the simulator shares (records, errors, JSON answers).
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from bot.manifest import BOT_SCOPES  # a token is granted what the manifest asks, unless told

JsonDict = dict[str, Any]

DEFAULT_TEAM_ID = "T0001"
DEFAULT_TOKEN = "xoxb-test-T0001"
DEFAULT_BOT_USER_ID = "UBOT0001"
DEFAULT_USER_ID = "U0001"
DEFAULT_APP_ID = "A0001"


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
class Channel:
    # Insertion order is ts order; bounded by the simulator's history_limit.
    by_ts: OrderedDict[str, JsonDict] = field(default_factory=OrderedDict)


@dataclass
class Workspace:
    team_id: str
    token: str
    bot_user_id: str
    bot_id: str
    name: str
    domain: str
    users: dict[str, JsonDict] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    # Who is in each channel, in the order they joined (conversations.members).
    channel_members: dict[str, list[str]] = field(default_factory=dict)
    opened_ims: set[str] = field(default_factory=set)
    home_view_ids: dict[str, str] = field(default_factory=dict)
    # Do Not Disturb windows, by user: (start, end) in Unix seconds (dnd.teamInfo).
    dnd: dict[str, tuple[float, float]] = field(default_factory=dict)
    # What the token was granted, as Slack reports it in auth.test's x-oauth-scopes header.
    scopes: tuple[str, ...] = BOT_SCOPES


class SlackError(Exception):
    """Raised inside a method implementation to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def dm_channel(channel: str) -> str:
    # Posting to a user id lands in the app's DM with them, as on Slack.
    return "D" + channel if channel.startswith(("U", "W")) else channel


def json_response(
    payload: JsonDict, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


class SimulatorState:
    """Workspaces and what is stored in them; arranged by tests and read back by them."""

    def __init__(self, *, clock: Callable[[], float], history_limit: int) -> None:
        self.calls: list[RecordedCall] = []
        self.uploaded_files: dict[str, bytes] = {}
        self.files: dict[str, JsonDict] = {}
        self.views: dict[str, JsonDict] = {}
        self.stats: dict[str, int] = {}
        self._clock = clock
        self._history_limit = history_limit
        self._workspaces: dict[str, Workspace] = {}
        self._by_token: dict[str, Workspace] = {}
        self._revoked: set[str] = set()
        self._orgs: dict[str, str] = {}  # Enterprise Grid: team → its org
        self._org_wide: set[str] = set()  # orgs with the app installed org-wide
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._reset_stats()

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
        workspace = Workspace(
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
            workspace.channel_members = old.channel_members
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
        is_bot: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
    ) -> None:
        """Add (or replace) a user; ``users.info`` and ``conversations.open`` know them.

        ``tz=None`` is a profile without a time zone (Slack then omits ``tz``). ``deleted``: a
        deactivated account; ``is_restricted``: a multi-channel guest, ``is_ultra_restricted``:
        a single-channel guest (Slack marks those as restricted too).
        """
        workspace = self._workspace(team_id)
        record = self._user_record(
            team_id,
            user_id,
            tz,
            is_admin,
            is_owner,
            deleted,
            real_name or f"User {user_id}",
            is_bot=is_bot,
        )
        record["is_restricted"] = is_restricted or is_ultra_restricted
        record["is_ultra_restricted"] = is_ultra_restricted
        workspace.users[user_id] = record

    def set_status(
        self,
        team_id: str,
        user_id: str,
        *,
        emoji: str = "",
        text: str = "",
        expiration: float = 0,
    ) -> None:
        """Someone's Slack status, as ``users.info`` shows it (``expiration`` 0: it stays)."""
        profile = self._workspace(team_id).users[user_id]["profile"]
        profile["status_emoji"] = emoji
        profile["status_text"] = text
        profile["status_expiration"] = int(expiration)

    def set_dnd(self, team_id: str, user_id: str, start: float, end: float) -> None:
        """Do Not Disturb for someone from ``start`` to ``end`` (Unix seconds)."""
        self._workspace(team_id).dnd[user_id] = (start, end)

    def clear_dnd(self, team_id: str, user_id: str) -> None:
        self._workspace(team_id).dnd.pop(user_id, None)

    def set_channel_members(self, team_id: str, channel: str, user_ids: list[str]) -> None:
        """Who is in a channel now (``conversations.members`` answers them, in this order)."""
        self._workspace(team_id).channel_members[channel] = list(user_ids)

    def join_channel(self, team_id: str, channel: str, user_id: str) -> JsonDict:
        """Someone joins a channel; the ``member_joined_channel`` event Slack then sends."""
        members = self._workspace(team_id).channel_members.setdefault(channel, [])
        if user_id not in members:
            members.append(user_id)
        return self._membership_event("member_joined_channel", team_id, channel, user_id)

    def leave_channel(self, team_id: str, channel: str, user_id: str) -> JsonDict:
        """Someone leaves a channel; the ``member_left_channel`` event Slack then sends."""
        members = self._workspace(team_id).channel_members.get(channel, [])
        if user_id in members:
            members.remove(user_id)
        return self._membership_event("member_left_channel", team_id, channel, user_id)

    def channel_members(self, channel: str, *, team_id: str = DEFAULT_TEAM_ID) -> list[str]:
        return list(self._workspace(team_id).channel_members.get(channel, []))

    def _membership_event(self, kind: str, team_id: str, channel: str, user_id: str) -> JsonDict:
        return {
            "type": kind,
            "user": user_id,
            "channel": channel,
            "channel_type": "G" if channel.startswith("G") else "C",
            "team": team_id,
            "event_ts": self._next_ts(),
        }

    def join_org(self, team_id: str, enterprise_id: str) -> None:
        """Make `team_id` a workspace of the Enterprise Grid org `enterprise_id`: requests from
        it then carry the org, as Slack's do (see `grid_of`)."""
        self._orgs[team_id] = enterprise_id

    def grid_of(self, team_id: str) -> tuple[str | None, bool]:
        """(the team's Grid org or None, whether the app is installed org-wide there): what
        Slack puts in each request from that team (`enterprise_id`, `is_enterprise_install`)."""
        enterprise_id = self._orgs.get(team_id)
        return enterprise_id, enterprise_id in self._org_wide

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

    # ---- inspecting ------------------------------------------------------------------------

    def messages(self, channel: str, *, team_id: str = DEFAULT_TEAM_ID) -> list[JsonDict]:
        """Everything stored in a channel (top level and replies), oldest first."""
        stored = self._workspace(team_id).channels.get(channel)
        return [dict(m) for m in stored.by_ts.values()] if stored else []

    def home_view(self, user_id: str, *, team_id: str = DEFAULT_TEAM_ID) -> JsonDict | None:
        """The Home tab last published for a user, if any."""
        view_id = self._workspace(team_id).home_view_ids.get(user_id)
        return self.views.get(view_id) if view_id else None

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

    def _record(self, call: RecordedCall) -> None:
        self.calls.append(call)
        self.stats["calls"] += 1

    # ---- storage ---------------------------------------------------------------------------

    def _workspace(self, team_id: str) -> Workspace:
        try:
            return self._workspaces[team_id]
        except KeyError:
            raise KeyError(f"unknown workspace {team_id}; call add_workspace first") from None

    def _next_ts(self) -> str:
        micros = max(int(self._clock() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _store(self, workspace: Workspace, channel: str, message: JsonDict) -> None:
        stored = workspace.channels.get(channel)
        if stored is None:
            stored = workspace.channels[channel] = Channel()
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
            "is_restricted": False,
            "is_ultra_restricted": False,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "real_name_normalized": real_name,
                "display_name_normalized": name,
                "team": team_id,
                "status_text": "",
                "status_emoji": "",
                "status_expiration": 0,
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

    def _bot_message(self, workspace: Workspace, ts: str, body: JsonDict) -> JsonDict:
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
