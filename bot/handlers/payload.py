"""Reading values out of Slack payloads without trusting them, and answering them safely.

`bot.inbound` has already checked a payload's shape (ids, objects, strings); the values inside
it, such as a button's value or a modal's state, came back from a client and may not be what
the app sent. These helpers answer None (or empty) for anything unexpected, never raise.
"""

from __future__ import annotations

import logging
import re
from datetime import time
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

LARGEST_ID = 2**31 - 1  # the Integer columns' largest value
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")  # Slack's timepicker: "HH:mm"


def who(body: dict[str, Any]) -> tuple[str, str]:
    """(team_id, user_id) of whoever pressed or submitted; org-wide installs send no `team`."""
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id") or ""
    return team, user.get("id") or ""


def org_of(body: dict[str, Any]) -> str | None:
    """The Enterprise Grid org a request comes from, or None outside Grid. Slack names it as
    `enterprise_id` on slash commands and event envelopes, as `enterprise` on buttons and
    modals, and on the installation an event was sent for (`authorizations`)."""
    team = body.get("team")
    authorizations = body.get("authorizations") or [{}]
    for found in (
        body.get("enterprise_id"),
        body.get("enterprise"),
        team.get("enterprise_id") if isinstance(team, dict) else None,
        authorizations[0].get("enterprise_id"),
    ):
        if isinstance(found, dict):
            found = found.get("id")
        if isinstance(found, str) and found:
            return found
    return None


def whole_number(value: Any, largest: int = LARGEST_ID) -> int | None:
    """A number the app wrote into a button or modal: plain digits 0–`largest`, else None."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    if len(value) > len(str(largest)) or int(value) > largest:
        return None
    return int(value)


def state_input(view: dict[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    """One input's state in a submitted modal, or {} when it is missing or not an object."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    block = values.get(block_id) if isinstance(values, dict) else None
    element = block.get(action_id) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def state_text(view: dict[str, Any], block_id: str, action_id: str) -> str:
    value = state_input(view, block_id, action_id).get("value")
    return value if isinstance(value, str) else ""


def clock_time(value: Any) -> time | None:
    """A timepicker's "HH:mm", else None."""
    match = _CLOCK.fullmatch(value) if isinstance(value, str) else None
    return time(int(match[1]), int(match[2])) if match else None


async def answer_button(respond: AsyncRespond, *, replace_original: bool, **message: Any) -> None:
    """Answer a button, only to the person, through its response URL. A press on a surface
    without one (the Home tab, a modal) has nowhere to be answered: Bolt's `respond` raises."""
    if respond.response_url:
        await respond(response_type="ephemeral", replace_original=replace_original, **message)


async def show_modal(client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """Open a modal. Slack refuses a trigger_id that is not one or has expired (they last three
    seconds); nothing was changed, so a warning is enough."""
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        logger.warning("could not open a modal: %s", error.response.get("error"))
