"""Away from work: what a person's Slack status and Do Not Disturb say just before a nudge.

The dispatcher reads both right before each nudge (the status with the zone, in the same
users.info; Do Not Disturb for up to 50 people in one dnd.teamInfo) and planning decides what
they mean (bot.services.dispatch.planning). Only the outcome is kept: on leave or not, when it
clears, when Do Not Disturb ends. The status text is never stored or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.calendar import leave_in_status
from bot.services.dispatch.planning import Away
from bot.services.profiles import ProfileRead, instant

logger = logging.getLogger(__name__)

DND_BATCH = 50  # people per dnd.teamInfo call: Slack's most


def away_from(
    read: ProfileRead,
    dnd_until: datetime | None,
    now: datetime,
    leave_emoji: Sequence[str],
    leave_words: Sequence[str],
) -> Away:
    """What one read before a nudge found: leave (from the status) and Do Not Disturb."""
    on_leave = leave_in_status(read.status_emoji, read.status_text, leave_emoji, leave_words)
    return Away(
        on_leave=on_leave,
        leave_until=read.status_expires if on_leave else None,
        dnd_until=dnd_until if dnd_until is not None and dnd_until > now else None,
    )


async def read_dnd(
    client: AsyncWebClient, team_id: str, user_ids: Sequence[str], now: datetime
) -> dict[str, datetime]:
    """When each person's Do Not Disturb ends, for those in it at `now` (at most DND_BATCH).

    Nothing when Slack can't be asked (an install without the dnd:read scope, an error, a
    dropped connection): the nudge goes as if Do Not Disturb were off."""
    if not user_ids:
        return {}
    try:
        response = await client.dnd_teamInfo(users=",".join(user_ids))
    except SlackApiError as error:
        logger.warning("dnd.teamInfo failed for %s: %s", team_id, error.response.get("error"))
        return {}
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        logger.warning("dnd.teamInfo failed for %s: %s", team_id, type(error).__name__)
        return {}
    users = response.get("users")
    if not isinstance(users, dict):
        return {}
    ends = {}
    for user_id in user_ids:
        end = _in_dnd_until(users.get(user_id), now)
        if end is not None:
            ends[user_id] = end
    return ends


def _in_dnd_until(answer: Any, now: datetime) -> datetime | None:
    """The end of the Do Not Disturb window `now` is in, if it is in one."""
    if not isinstance(answer, dict) or not answer.get("dnd_enabled"):
        return None
    start, end = instant(answer.get("next_dnd_start_ts")), instant(answer.get("next_dnd_end_ts"))
    if start is None or end is None or not start <= now < end:
        return None
    return end
