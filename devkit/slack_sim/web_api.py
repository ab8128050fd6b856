"""The Web API methods the app calls, answered the way Slack answers them.

Only methods the app (or a test of the app) calls are here; anything else answers
``unknown_method``, as Slack does for a name it does not know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from devkit.slack_sim.state import (
    DEFAULT_APP_ID,
    JsonDict,
    SimulatorState,
    SlackError,
    Workspace,
    dm_channel,
    truthy,
)

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_DND_USERS = 50

Method = Callable[[Workspace, JsonDict], JsonDict]


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, fraction = ts.partition(".")
    return int(seconds), int(fraction.ljust(6, "0")[:6] or 0)


def _without_metadata(message: JsonDict) -> JsonDict:
    if "metadata" not in message:
        return message
    return {k: v for k, v in message.items() if k != "metadata"}


class WebApiMethods(SimulatorState):
    """Each method takes the caller's workspace and the decoded body and returns the answer's
    fields (``ok`` is added by the server), or raises ``SlackError``."""

    @property
    def url(self) -> str:
        """The simulator's root URL, given by the server (for upload URLs)."""
        raise NotImplementedError

    def _method_table(self) -> dict[str, Method]:
        return {
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.members": self._conversations_members,
            "users.info": self._users_info,
            "dnd.teamInfo": self._dnd_team_info,
            "views.open": self._views_open,
            "views.publish": self._views_publish,
            "reactions.add": self._reactions_add,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _apps_connections_open(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        # App-level (xapp-) tokens are answered before this (see socket_mode); an unknown token
        # already answers invalid_auth, and a bot token is the wrong kind for Socket Mode.
        raise SlackError("not_allowed_token_type")

    def _auth_test(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        return {
            "url": f"https://{workspace.domain}.slack.com/",
            "team": workspace.name,
            "user": "leading-health",
            "team_id": workspace.team_id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    # ---- messages --------------------------------------------------------------------------

    def _message_checks(self, body: JsonDict) -> None:
        if not body.get("text") and not body.get("blocks") and not body.get("attachments"):
            raise SlackError("no_text")
        if len(str(body.get("text") or "")) > MAX_TEXT:
            raise SlackError("msg_too_long")
        blocks = body.get("blocks")
        if blocks is not None and (not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS):
            raise SlackError("invalid_blocks")
        metadata = body.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str)
        ):
            raise SlackError("invalid_metadata_format")

    def _chat_post_message(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        to = str(body.get("channel") or "")
        channel = dm_channel(to)
        person = workspace.users.get(to) if channel != to else None
        # Lenient with people it was never told of (tests make up ids); a deactivated one's DM
        # can't be found by id.
        if not channel or (person is not None and person["deleted"]):
            raise SlackError("channel_not_found")
        if channel != to:
            workspace.opened_ims.add(channel)
        self._message_checks(body)
        ts = self._next_ts()
        message = self._bot_message(workspace, ts, body)
        thread_ts = body.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            if truthy(body.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
        self._store(workspace, channel, message)
        return {"channel": channel, "ts": ts, "message": dict(message)}

    def _reactions_add(self, workspace: Workspace, body: JsonDict) -> JsonDict:
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

    # ---- conversations and users -----------------------------------------------------------

    def _conversations_open(self, workspace: Workspace, body: JsonDict) -> JsonDict:
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

    def _conversations_history(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        channel = str(body.get("channel") or "")
        if not channel:
            raise SlackError("channel_not_found")
        stored = workspace.channels.get(channel)
        top_level = [
            m
            for m in (stored.by_ts.values() if stored else ())
            if m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast"
        ]
        picked, has_more = self._newest_first_page(top_level, body)
        result: JsonDict = {"messages": picked, "has_more": has_more, "pin_count": 0}
        if has_more:
            result["response_metadata"] = {"next_cursor": picked[-1]["ts"]}
        return result

    def _newest_first_page(
        self, messages: list[JsonDict], body: JsonDict
    ) -> tuple[list[JsonDict], bool]:
        oldest = str(body.get("oldest") or "0")
        latest = body.get("latest")
        inclusive = truthy(body.get("inclusive"))
        with_metadata = truthy(body.get("include_all_metadata"))
        try:
            limit = max(1, min(int(body.get("limit") or 100), 999))
        except ValueError as error:
            raise SlackError("invalid_limit") from error
        cursor = body.get("cursor")
        low = _ts_key(oldest)
        high = _ts_key(str(latest)) if latest else None
        picked: list[JsonDict] = []
        skipping = bool(cursor)
        for message in reversed(messages):
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

    def _conversations_members(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        """Member ids a page at a time (`limit`, default 100), the next page's `cursor` in
        `response_metadata` ("" on the last). A private channel answers only its members."""
        channel = str(body.get("channel") or "")
        needed = "groups:read" if channel.startswith("G") else "channels:read"
        if needed not in workspace.scopes:
            raise SlackError("missing_scope")
        members = workspace.channel_members.get(channel)
        if members is None or (channel.startswith("G") and workspace.bot_user_id not in members):
            raise SlackError("channel_not_found")
        try:
            limit = max(1, min(int(body.get("limit") or 100), 1000))
            start = int(body.get("cursor") or 0)
        except ValueError as error:
            raise SlackError("invalid_cursor") from error
        page = members[start : start + limit]
        following = start + limit if start + limit < len(members) else None
        return {
            "members": page,
            "response_metadata": {"next_cursor": str(following) if following else ""},
        }

    def _users_info(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        user = workspace.users.get(str(body.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": self._user_view(user)}

    def _dnd_team_info(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        """Do Not Disturb for up to 50 users: each one's current or next window."""
        if "dnd:read" not in workspace.scopes:
            raise SlackError("missing_scope")
        users = [user for user in str(body.get("users") or "").split(",") if user]
        if len(users) > MAX_DND_USERS:
            raise SlackError("too_many_users")
        answer: JsonDict = {}
        for user_id in users:
            if user_id not in workspace.users:
                continue
            start, end = workspace.dnd.get(user_id, (0.0, 0.0))
            answer[user_id] = {
                "dnd_enabled": user_id in workspace.dnd,
                "next_dnd_start_ts": int(start),
                "next_dnd_end_ts": int(end),
            }
        return {"users": answer}

    # ---- views -----------------------------------------------------------------------------

    def _build_view(
        self, workspace: Workspace, spec: Any, *, view_id: str | None = None
    ) -> JsonDict:
        if not isinstance(spec, dict) or "type" not in spec:
            raise SlackError("invalid_arguments")
        if len(spec.get("blocks") or []) > MAX_VIEW_BLOCKS:
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

    def _views_open(self, workspace: Workspace, body: JsonDict) -> JsonDict:
        if not body.get("trigger_id") and not body.get("interactivity_pointer"):
            raise SlackError("invalid_arguments")
        return {"view": self._build_view(workspace, body.get("view"))}

    def _views_publish(self, workspace: Workspace, body: JsonDict) -> JsonDict:
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

    # ---- files -----------------------------------------------------------------------------

    def _files_get_upload_url(self, workspace: Workspace, body: JsonDict) -> JsonDict:
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

    def _files_complete_upload(self, workspace: Workspace, body: JsonDict) -> JsonDict:
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
