"""Away from work: what a person's Slack status and Do Not Disturb say just before a nudge.

The dispatcher reads both right before each nudge (the status with the zone, in the same
users.info; Do Not Disturb for up to 50 people in one dnd.teamInfo) and planning decides what
they mean (bot.services.dispatch.planning). Only the outcome is kept: on leave or not, when it
clears, when Do Not Disturb ends. The status text is never stored or logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.calendar import leave_in_status
from bot.db import Sessions
from bot.models import Schedule
from bot.services.dispatch.planning import Away
from bot.services.profiles import ProfileRead, instant

logger = logging.getLogger(__name__)

DND_BATCH = 50  # people per dnd.teamInfo call: Slack's most
DUE_LOOKAHEAD = 5_000  # a workspace's due people listed at once, to fill each call


class DoNotDisturb:
    """Do Not Disturb for one pass: each dnd.teamInfo call asks about 50 people, those wanted
    now and then the workspace's other due people in the order they will be claimed, and the
    answers serve the rest of the pass. (Zones are read a few people at a time as claims need
    them; asked that way, a workspace of 100 would take 20 calls, and Slack allows about 20 a
    minute.)"""

    def __init__(self, sessions: Sessions, now: datetime) -> None:
        self._sessions = sessions
        self._now = now
        self._ends: dict[tuple[str, str], datetime | None] = {}
        self._due: dict[str, list[str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def ends(
        self,
        team_id: str,
        user_ids: Sequence[str],
        ask: Callable[[list[str]], Awaitable[dict[str, datetime]]],
    ) -> dict[str, datetime]:
        """When Do Not Disturb ends for each of `user_ids` in it now; `ask` makes one call."""
        async with self._locks.setdefault(team_id, asyncio.Lock()):
            missing = [user for user in user_ids if (team_id, user) not in self._ends]
            while missing:
                if team_id not in self._due:
                    self._due[team_id] = await _due_people(self._sessions, team_id, self._now)
                wanted = set(missing)
                others = [
                    user
                    for user in self._due[team_id]
                    if user not in wanted and (team_id, user) not in self._ends
                ]
                asking = (missing + others)[:DND_BATCH]
                answered = await ask(asking)
                for user in asking:
                    self._ends[(team_id, user)] = answered.get(user)
                missing = [user for user in missing if (team_id, user) not in self._ends]
        ends = {user: self._ends[(team_id, user)] for user in user_ids}
        return {user: end for user, end in ends.items() if end is not None}


async def _due_people(sessions: Sessions, team_id: str, now: datetime) -> list[str]:
    """A workspace's people with a nudge due now, in the order claims take them."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Schedule.user_id)
            .where(
                Schedule.team_id == team_id,
                Schedule.status == "active",
                Schedule.next_due_at <= now,
            )
            .order_by(Schedule.next_due_at, Schedule.id)
            .limit(DUE_LOOKAHEAD)
        )
        return list(rows)


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
