"""A cohort's shared practice: once a week, on the cohort's day and time, one practice idea is
posted in its channel for the group to talk over in the thread.

Optional per cohort (`/leading-tip cohort practice on|off`, its leads and admins). The day and
time are the cohort's; the zone is that of whoever turned the posts on (a channel has no zone of
its own), kept on the cohort. Replies in the channel are never stored: the app keeps only what is
written in its DMs, and the post says so.

Exactly once however many schedulers run: a post is claimed by inserting its row, whose unique
(cohort, week) key lets only one insert win, before anything is sent. A post that fails is not
tried again (at most once, never twice), and one more than `LATE` after its time is skipped, so
a scheduler back from downtime never posts last week's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, update

from bot.clock import Clock
from bot.content import Item, Library
from bot.db import Sessions
from bot.models import Cohort, CohortPracticePost, Workspace
from bot.services.cohorts import Cohorts, NotACohort
from bot.services.profiles import read_zone, stored_zone, zone_or_default
from bot.services.store import insert_ignoring_duplicates
from bot.services.timing import next_send_after
from bot.values import PracticeSettled

logger = logging.getLogger(__name__)

LATE = timedelta(hours=6)
WEEK = timedelta(days=7)

ClientFor = Callable[[str, str | None], Awaitable[AsyncWebClient | None]]


@dataclass(frozen=True)
class PracticeSummary:
    posted: int = 0
    failed: int = 0


class CohortPractice:
    def __init__(
        self,
        sessions: Sessions,
        library: Library,
        clock: Clock,
        default_tz: str,
        cohorts: Cohorts,
        draw: Callable[[Item], dict[str, Any]],
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock
        self._default_tz = default_tz
        self._cohorts = cohorts
        self._draw = draw

    async def turn(
        self, team_id: str, channel_id: str, user_id: str, on: bool, client: AsyncWebClient
    ) -> PracticeSettled:
        """`cohort practice on|off`. On: from now, in the zone of whoever turned it on.
        Raises NotACohort or NotAllowed (from the cohorts service); nothing changes then."""
        cohort = await self._cohorts.led_by(team_id, channel_id, user_id, client)
        now = self._clock()
        answered, zone_name = await read_zone(client, team_id, user_id) if on else (False, None)
        async with self._sessions() as session, session.begin():
            row = await session.get(Cohort, cohort.id, with_for_update=True)
            if row is None or row.ended_at is not None:
                raise NotACohort  # ended by another lead a moment ago
            if on and row.practice_since is None:
                if not answered:  # Slack couldn't say: the zone we last knew, else the default
                    zone_name = await stored_zone(session, team_id, user_id)
                row.practice_since = now
                row.practice_tz = zone_or_default(zone_name, self._default_tz).key
            elif not on:
                row.practice_since = None
            local_time = time(*divmod(row.local_minutes, 60))
            zone = zone_or_default(row.practice_tz, self._default_tz)  # on already: unchanged
            return PracticeSettled(on, row.weekday, local_time, zone.key)

    async def run_pass(self, client_for: ClientFor) -> PracticeSummary:
        """Post each live cohort's practice that is due now and not yet claimed."""
        now = self._clock()
        async with self._sessions() as session:
            cohorts = list(
                (
                    await session.execute(
                        select(Cohort, Workspace.enterprise_id)
                        .join(Workspace, Workspace.team_id == Cohort.team_id)
                        .where(
                            Cohort.ended_at.is_(None),
                            Cohort.practice_since.is_not(None),
                            Workspace.active.is_(True),
                        )
                    )
                ).all()
            )
        posted = failed = 0
        for cohort, enterprise_id in cohorts:
            claim = await self._claim(cohort, now)
            if claim is None:
                continue
            post_id, item = claim
            ok = await self._post(cohort, enterprise_id, post_id, item, client_for)
            posted, failed = posted + ok, failed + (not ok)
        return PracticeSummary(posted, failed)

    def _slot(self, cohort: Cohort, now: datetime) -> datetime | None:
        """This week's post time if it is due now: passed, not before practice was turned on,
        and not more than LATE ago."""
        zone = zone_or_default(cohort.practice_tz, self._default_tz)
        local_time = time(*divmod(cohort.local_minutes, 60))
        slot = next_send_after(now - WEEK, cohort.weekday, local_time, zone)
        since = cohort.practice_since
        if slot > now or since is None or slot < since or now - slot > LATE:
            return None
        return slot

    async def _claim(self, cohort: Cohort, now: datetime) -> tuple[int, Item] | None:
        """Insert this week's row, or None when it is not due or another pass has it."""
        slot = self._slot(cohort, now)
        # The cohort's focus (else the first capability), as its members' own nudges.
        items = self._library.items("practice", self._library.focus_of(cohort.focus).id)
        if slot is None or not items:
            return None
        zone = zone_or_default(cohort.practice_tz, self._default_tz)
        async with self._sessions() as session, session.begin():
            earlier = await session.scalar(
                select(func.count())
                .select_from(CohortPracticePost)
                .where(CohortPracticePost.cohort_id == cohort.id)
            )
            item = items[int(earlier or 0) % len(items)]  # in turn, round and round
            post_id = await insert_ignoring_duplicates(
                session,
                CohortPracticePost,
                {
                    "cohort_id": cohort.id,
                    "week": slot.astimezone(zone).date(),
                    "item_id": item.id,
                    "status": "claimed",
                    "claimed_at": now,
                },
                returning=CohortPracticePost.id,
            )
        return None if post_id is None else (int(post_id), item)

    async def _post(
        self,
        cohort: Cohort,
        enterprise_id: str | None,
        post_id: int,
        item: Item,
        client_for: ClientFor,
    ) -> bool:
        client = await client_for(cohort.team_id, enterprise_id)
        values: dict[str, Any]
        if client is None:
            values = {"status": "failed", "error": "no_token"}
        else:
            try:
                response = await client.chat_postMessage(
                    channel=cohort.channel_id, **self._draw(item)
                )
                values = {"status": "posted", "message_ts": str(response["ts"])}
            except SlackApiError as error:
                code = str(error.response.get("error") or "")
                logger.warning(
                    "practice post in %s/%s failed: %s", cohort.team_id, cohort.channel_id, code
                )
                values = {"status": "failed", "error": code[:64]}
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                # It may have posted: never tried again, so never posted twice.
                logger.warning(
                    "practice post in %s/%s: connection problem (%s)",
                    cohort.team_id,
                    cohort.channel_id,
                    type(error).__name__,
                )
                values = {"status": "failed", "error": "connection_error"}
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(CohortPracticePost)
                .where(CohortPracticePost.id == post_id)
                .values(posted_at=self._clock(), **values)
            )
        return values["status"] == "posted"
