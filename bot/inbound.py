"""What a signed request must look like before Bolt sees it; anything else gets a 400.

Bolt parses bodies and builds its context with plain indexing (`body["event"]["type"]`,
`"id" in user`), so a signed but malformed body would raise inside Bolt: a 500, a stalled ack or
a traceback. `read_body` parses the bytes the way Bolt does, with bounded nesting, and checks
the shapes the app handles (objects where objects are expected, Slack ids as short strings,
message timestamps as Slack writes them). Values inside those shapes, such as button values and
modal state, are the handlers' to read carefully.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_DEPTH = 32  # Slack's own payloads, rich text in a modal's state included, nest far less
MAX_ID_CHARS = 32  # every id column is String(32)
MAX_NAME_CHARS = 255  # action_id, block_id, callback_id, event and payload types

_ID = re.compile(rf"[A-Za-z0-9]{{1,{MAX_ID_CHARS}}}")
_TS = re.compile(r"[0-9]{1,10}\.[0-9]{1,6}")  # "1700000000.000100"; float() of it is a sane time
_SURROGATE = re.compile("[\ud800-\udfff]")
# Where Bolt looks for ids while building its context, recursively.
_BOLT_NESTED = ("event", "message", "previous_message", "item", "assistant_thread")
_BOLT_IDS = ("user", "team", "channel", "enterprise")
_OPTIONAL_OBJECTS = ("container", "function_data", "state", "workflow_step")
# Bolt reads these as objects whenever the key is there, even when a listener matches nothing.
_OBJECTS_IF_PRESENT = ("event", "view")
# What Slack sends this app, given its manifest; anything else is no request of ours.
KINDS = frozenset(
    {
        "event_callback",
        "block_actions",
        "view_submission",
        "view_closed",
        "url_verification",
        "app_rate_limited",
    }
)
_SLASH_FIELDS = ("command", "text", "team_id", "user_id", "channel_id", "response_url")


class Rejected(ValueError):
    """The body is not one the app can act on; `reason` is safe to log and to send back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The body as Bolt would parse it, checked; Rejected says what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("the body is not UTF-8") from None
    if content_type == "application/json" or text.startswith("{"):
        body = _json(text)
    else:
        form = dict(parse_qsl(text, keep_blank_values=True))
        body = _json(form["payload"]) if "payload" in form else form
    return check_body(body)


def check_body(body: Any) -> dict[str, Any]:
    """A body already parsed (Socket Mode delivers them so), checked as `read_body` checks."""
    if not isinstance(body, dict):
        raise Rejected("the body is not an object")
    _check_values(body)
    _check_shape(body)
    return body


def _json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise Rejected(f"the JSON nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # also too many digits in a number, and NaN or Infinity
        raise Rejected("the body is not valid JSON") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_values(body: dict[str, Any]) -> None:
    """Bounded nesting, and text that is real Unicode (a lone surrogate cannot be stored)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Rejected(f"the JSON nests deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text: str) -> None:
    if _SURROGATE.search(text):
        raise Rejected("the body has text that is not valid Unicode")


# --- shapes ------------------------------------------------------------------------------------


def _check_shape(body: dict[str, Any]) -> None:
    for part in _bolt_parts(body):
        for key in _BOLT_IDS:
            _id_or_object(part, key)
        _list_of_objects(part, "authorizations")
        for key in ("team_id", "user_id", "channel_id", "enterprise_id"):
            _ident(part, key)
    for key in _OBJECTS_IF_PRESENT:
        if key in body:
            _object(body, key, required=True)
    for key in _OPTIONAL_OBJECTS:
        _object(body, key)
    _list_of_objects(body, "response_urls")
    for entry in body.get("response_urls") or []:
        _url(entry, "response_url")
    _url(body, "response_url")
    for key in ("callback_id", "action_id", "trigger_id", "api_app_id", "token"):
        _text(body, key, MAX_NAME_CHARS)

    kind = body.get("type")
    if "command" in body:
        _slash_command(body)
    elif kind is None:
        if body.get("ssl_check") != "1":
            raise Rejected("the body is not a Slack request this app knows")
    elif not isinstance(kind, str) or kind not in KINDS:
        raise Rejected("`type` is not a kind of request this app handles")
    elif kind == "event_callback":
        _event_callback(body)
    elif kind == "block_actions":
        _block_actions(body)
    elif kind in ("view_submission", "view_closed"):
        _view_payload(body)
    elif kind == "url_verification":
        _text(body, "challenge", MAX_NAME_CHARS, required=True)


def _bolt_parts(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every object Bolt reads ids from: the body, nested events and messages, authorizations."""
    stack = [body]
    while stack:
        part = stack.pop()
        yield part
        stack.extend(part[key] for key in _BOLT_NESTED if isinstance(part.get(key), dict))
        stack.extend(_list_of_objects(part, "authorizations"))


def _slash_command(body: dict[str, Any]) -> None:
    for key in _SLASH_FIELDS:
        _text(body, key, None)
    _text(body, "command", MAX_NAME_CHARS, required=True)
    _text(body, "response_url", None, required=True)  # where every answer after the ack goes
    _ident(body, "team_id", required=True)
    _ident(body, "user_id", required=True)


def _event_callback(body: dict[str, Any]) -> None:
    _ident(body, "team_id", required=True)
    _text(body, "event_id", MAX_NAME_CHARS)
    event = _object(body, "event", required=True)
    kind = _text(event, "type", MAX_NAME_CHARS, required=True)
    subtype = _text(event, "subtype", MAX_NAME_CHARS)
    for key in ("channel_type", "tab", "bot_id", "app_id"):
        _text(event, key, MAX_NAME_CHARS)
    tokens = _object(event, "tokens")
    if tokens is not None:  # tokens_revoked: whose user tokens, which bot users
        for key in ("oauth", "bot"):
            _list_of_ids(tokens, key)
    if kind == "app_home_opened":
        _ident(event, "user", required=True)
    elif kind == "message":
        _ident(event, "channel", required=True)
        _ts(event, "thread_ts")
        _text(event, "text", None)
        if subtype == "message_changed":
            message = _object(event, "message", required=True)
            _ts(message, "ts", required=True)
            _text(message, "text", None)
            _text(message, "bot_id", MAX_NAME_CHARS)
        elif subtype == "message_deleted":
            _ts(event, "deleted_ts", required=True)
        else:
            _ts(event, "ts", required=True)


def _block_actions(body: dict[str, Any]) -> None:
    _who(body)
    if not _text(body, "trigger_id", MAX_NAME_CHARS, required=True):
        raise Rejected("`trigger_id` is empty")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise Rejected("`actions` is not a list of actions")
    for action in actions:
        if not isinstance(action, dict):
            raise Rejected("an action is not an object")
        _text(action, "action_id", MAX_NAME_CHARS, required=True)
        for key in ("block_id", "type"):
            _text(action, key, MAX_NAME_CHARS)
        _text(action, "value", None)
        _object(action, "selected_option")


def _view_payload(body: dict[str, Any]) -> None:
    _who(body)
    view = _object(body, "view", required=True)
    _text(view, "callback_id", MAX_NAME_CHARS, required=True)
    _text(view, "type", MAX_NAME_CHARS, required=True)  # Bolt reads it for every view payload
    _text(view, "private_metadata", None)
    _ident(view, "app_installed_team_id")


def _who(body: dict[str, Any]) -> None:
    """The person and their workspace: `user.id`, and `team.id` or `user.team_id`."""
    user = _object(body, "user", required=True)
    _ident(user, "id", required=True)
    _ident(user, "team_id")
    team = _object(body, "team")
    if team is not None:
        _ident(team, "id", required=True)
    elif user.get("team_id") is None:
        raise Rejected("`team` is missing")


# --- fields ------------------------------------------------------------------------------------


def _object(parent: dict[str, Any], key: str, *, required: bool = False) -> Any:
    value = parent.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise Rejected(f"`{key}` is not an object")
    return value


def _list_of_objects(parent: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Rejected(f"`{key}` is not a list of objects")
    return value


def _text(parent: dict[str, Any], key: str, limit: int | None, *, required: bool = False) -> Any:
    value = parent.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (limit is not None and len(value) > limit):
        longest = f" of at most {limit} characters" if limit else ""
        raise Rejected(f"`{key}` is not a string{longest}")
    return value


def _ident(parent: dict[str, Any], key: str, *, required: bool = False) -> None:
    value = parent.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise Rejected(f"`{key}` is not a Slack id of at most {MAX_ID_CHARS} letters and digits")


def _list_of_ids(parent: dict[str, Any], key: str) -> None:
    value = parent.get(key)
    if value is None:
        return
    if not isinstance(value, list) or not all(
        isinstance(item, str) and _ID.fullmatch(item) for item in value
    ):
        raise Rejected(f"`{key}` is not a list of Slack ids")


def _id_or_object(parent: dict[str, Any], key: str) -> None:
    """Bolt reads `user`, `team`, `channel` and `enterprise` as an id or as an object with one
    (a Grid workspace's `team` also names its org, which finds an org-wide install)."""
    value = parent.get(key)
    if isinstance(value, dict):
        _ident(value, "id")
        _ident(value, "enterprise_id")
    elif value is not None:
        _ident(parent, key)


def _ts(parent: dict[str, Any], key: str, *, required: bool = False) -> None:
    value = parent.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not _TS.fullmatch(value):
        raise Rejected(f"`{key}` is not a Slack message timestamp")


def _url(parent: dict[str, Any], key: str) -> None:
    value = parent.get(key)
    if value is None:
        return
    if not isinstance(value, str) or len(value) > 2000:
        raise Rejected(f"`{key}` is not a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Rejected(f"`{key}` is not a URL")
