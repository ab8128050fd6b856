"""Cohorts: a channel whose members practise together.

Being in the channel is the consent. When a lead makes a channel a cohort, each member with a
full account (no bots, guests or deactivated accounts) gets one short DM and the weekly nudge
at the cohort's day and time in their own zone; people who join later get the same, and people
who leave stop getting the nudge the cohort set. Someone who had stopped their nudge is left as
they are; someone already subscribed keeps their own day and time. Nothing about anyone is ever
posted in the channel (a weekly practice idea may be: bot.services.cohort_practice). How the DMs
look is passed in where the app is wired (`CohortMessages`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Sessions
from bot.models import Cohort, CohortLead, Schedule
from bot.schedule_words import WeeklyChoice, parse_weekly
from bot.services.insights import Insights
from bot.services.profiles import (
    is_workspace_admin,
    read_person,
    save_zone,
    stored_zone,
    zone_or_default,
)
from bot.services.store import ensure_member, insert_ignoring_duplicates
from bot.services.subscriptions import (
    heard_from,
    holiday_region,
    set_day_and_time,
    stop_schedule,
    view_of,
)
from bot.values import MIN_GROUP, CohortFigures, CohortIntro, CohortSettled, HomeCohorts

logger = logging.getLogger(__name__)

LEFT_THE_COHORT = "left the cohort's channel"
COHORT_ENDED = "the cohort ended"
# A nudge stopped for one of these was the cohort's, not the person's choice: joining a cohort
# again starts it again. Any other stop (the person's own, an uninstall) stays as it is.
COHORT_REASONS = frozenset({LEFT_THE_COHORT, COHORT_ENDED})
MEMBERS_PAGE = 200
HOME_COHORTS = 20  # the Home tab names at most this many cohorts someone leads
HOME_FIGURES = 3  # and shows the figures of this many of them; `stats` in a channel shows any


class NotInAChannel(Exception):
    """`cohort` typed in a DM: there is no channel to make a cohort."""


class NotAllowed(Exception):
    """Only workspace admins, ADMIN_USER_IDS and the cohort's leads may do this."""


class NotACohort(Exception):
    """The channel is not a cohort (or its cohort has ended)."""


class CannotSeeChannel(Exception):
    """Slack would not list the channel's members: the app is not in it (`missing_scope`: the
    install predates cohorts and needs the new permissions)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.missing_scope = error == "missing_scope"


@dataclass(frozen=True)
class CohortMessages:
    """The DMs a cohort sends. Passed in where the app is wired, so no renderer import here."""

    intro: Callable[[CohortIntro], dict[str, Any]]
    ended: Callable[[str], dict[str, Any]]  # the channel id


def _minutes(when: time) -> int:
    return when.hour * 60 + when.minute


class Cohorts:
    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        default_tz: str,
        admin_ids: frozenset[str],
        insights: Insights,
        messages: CohortMessages,
        *,
        default_region: str,
    ) -> None:
        self._default_region = default_region
        self._sessions = sessions
        self._clock = clock
        self._default_tz = default_tz
        self._admin_ids = admin_ids
        self._insights = insights
        self._messages = messages

    # --- the lead's words -----------------------------------------------------------------

    async def start(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        choice: WeeklyChoice | None,
        client: AsyncWebClient,
    ) -> CohortSettled:
        """Make the channel a cohort (or change its day and time) and enrol everyone in it not
        yet enrolled. No `choice`: a new cohort is on Monday at 9:00 am, a live one keeps its.

        Raises NotInAChannel, NotAllowed or CannotSeeChannel; nothing changes then."""
        if channel_id.startswith("D"):
            raise NotInAChannel
        cohort = await self._live(team_id, channel_id)
        if not await self._may_lead(team_id, cohort, user_id, client):
            raise NotAllowed
        members = await self._members(client, channel_id)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await ensure_member(session, team_id, user_id, now)
            row = await session.scalar(
                select(Cohort)
                .where(Cohort.team_id == team_id, Cohort.channel_id == channel_id)
                .with_for_update()
            )
            live = row if row is not None and row.ended_at is None else None
            before = (live.weekday, live.local_minutes) if live is not None else None
            if choice is None and before is not None:
                choice = WeeklyChoice(before[0], time(*divmod(before[1], 60)))
            choice = choice or parse_weekly(())  # the weekly nudge's own default
            slot = (choice.weekday, _minutes(choice.local_time))
            changed = before is not None and before != slot
            if row is None:
                row = Cohort(team_id=team_id, channel_id=channel_id, created_at=now)
                session.add(row)
            elif live is None:  # started again: counted afresh from now
                row.created_at, row.ended_at = now, None
            row.weekday, row.local_minutes = slot
            await session.flush()
            await self._add_lead(session, row, user_id, now)
            if changed:
                await self._retime(session, row, choice, now)
            cohort_id = row.id
        for member in members:
            await self._enrol(team_id, cohort_id, member, client)
        already = before is not None
        return CohortSettled(channel_id, choice.weekday, choice.local_time, changed, already)

    async def check_start(
        self, team_id: str, channel_id: str, user_id: str, client: AsyncWebClient
    ) -> None:
        """What `start` would refuse, asked before a modal may close (Slack waits three seconds,
        too few to enrol a channel). Raises NotInAChannel, NotAllowed or CannotSeeChannel."""
        if channel_id.startswith("D"):
            raise NotInAChannel
        cohort = await self._live(team_id, channel_id)
        if not await self._may_lead(team_id, cohort, user_id, client):
            raise NotAllowed
        await self._members(client, channel_id)

    async def end(
        self, team_id: str, channel_id: str, user_id: str, client: AsyncWebClient | None
    ) -> None:
        """`cohort off`: the nudges the cohort set stop (with one DM each saying so); people who
        chose their own day and time keep it. Raises NotACohort or NotAllowed."""
        cohort = await self.led_by(team_id, channel_id, user_id, client)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            row = await session.get(Cohort, cohort.id, with_for_update=True)
            if row is None or row.ended_at is not None:
                raise NotACohort  # ended by another lead a moment ago
            row.ended_at, row.practice_since = now, None
            stopped = await self._unlink(session, [Schedule.cohort_id == row.id], COHORT_ENDED)
        if client is not None:
            for person in stopped:
                await self._dm(client, team_id, person, self._messages.ended(channel_id))

    async def name_lead(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        lead_id: str,
        client: AsyncWebClient | None,
    ) -> None:
        """`cohort lead @someone`. Raises NotACohort or NotAllowed."""
        cohort = await self.led_by(team_id, channel_id, user_id, client)
        async with self._sessions() as session, session.begin():
            await self._add_lead(session, cohort, lead_id, self._clock())

    async def set_focus(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        capability_id: str,
        client: AsyncWebClient | None,
    ) -> None:
        """`cohort focus <capability>`: its members practise it unless they chose their own.
        Raises NotACohort or NotAllowed."""
        cohort = await self._live(team_id, channel_id)
        if cohort is None:
            raise NotACohort
        if not await self._may_lead(team_id, cohort, user_id, client):
            raise NotAllowed
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Cohort).where(Cohort.id == cohort.id).values(focus=capability_id)
            )

    async def figures_for(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        client: AsyncWebClient | None,
        zone: ZoneInfo,
    ) -> CohortFigures | None:
        """The figures of the channel's cohort for a lead or admin; None when the channel is not
        a cohort. Raises NotAllowed for anyone else."""
        cohort = await self._live(team_id, channel_id)
        if cohort is None:
            return None
        if not await self._may_lead(team_id, cohort, user_id, client):
            raise NotAllowed
        return await self._figures(team_id, cohort, zone)

    async def _figures(self, team_id: str, cohort: Cohort, zone: ZoneInfo) -> CohortFigures:
        """Counts only; nothing but the head count while fewer than MIN_GROUP are in it."""
        members, figures = await self._insights.cohort(team_id, cohort.id, cohort.created_at, zone)
        return CohortFigures(cohort.channel_id, members, figures if members >= MIN_GROUP else None)

    async def led_by(
        self, team_id: str, channel_id: str, user_id: str, client: AsyncWebClient | None
    ) -> Cohort:
        """The channel's live cohort, for one of its leads or an admin. Raises NotACohort or
        NotAllowed."""
        cohort = await self._live(team_id, channel_id)
        if cohort is None:
            raise NotACohort
        if not await self._may_lead(team_id, cohort, user_id, client):
            raise NotAllowed
        return cohort

    async def for_home(self, team_id: str, user_id: str, zone: ZoneInfo) -> HomeCohorts:
        """The cohort someone's nudge belongs to, and the live cohorts they lead (a few), with
        the figures of the first HOME_FIGURES of those: the same as `stats` in their channels,
        from the database alone (a lead named in the cohort needs no check with Slack)."""
        async with self._sessions() as session:
            member_of = await session.scalar(
                select(Cohort.channel_id)
                .join(Schedule, Schedule.cohort_id == Cohort.id)
                .where(
                    Schedule.team_id == team_id,
                    Schedule.user_id == user_id,
                    Schedule.status == "active",
                )
            )
            leads = list(
                await session.scalars(
                    select(Cohort)
                    .join(CohortLead, CohortLead.cohort_id == Cohort.id)
                    .where(
                        CohortLead.team_id == team_id,
                        CohortLead.user_id == user_id,
                        Cohort.ended_at.is_(None),
                    )
                    .order_by(Cohort.channel_id)
                    .limit(HOME_COHORTS)
                )
            )
        figures = [await self._figures(team_id, c, zone) for c in leads[:HOME_FIGURES]]
        # Slack's own admins are asked for only when they press the button, not on every open.
        may_start = bool(leads) or user_id in self._admin_ids
        return HomeCohorts(member_of, tuple(c.channel_id for c in leads), tuple(figures), may_start)

    # --- Slack's events -------------------------------------------------------------------

    async def joined(
        self, team_id: str, channel_id: str, user_id: str, client: AsyncWebClient | None
    ) -> None:
        """Someone joined a channel: in a cohort's, they are enrolled as its first members were."""
        cohort = await self._live(team_id, channel_id)
        if cohort is not None and client is not None:
            await self._enrol(team_id, cohort.id, user_id, client)

    async def left(self, team_id: str, channel_id: str, user_id: str) -> None:
        """Someone left a channel: the nudge a cohort there set them stops (no DM: they left)."""
        cohort = await self._live(team_id, channel_id)
        if cohort is None:
            return
        async with self._sessions() as session, session.begin():
            where = [
                Schedule.team_id == team_id,
                Schedule.user_id == user_id,
                Schedule.cohort_id == cohort.id,
            ]
            await self._unlink(session, where, LEFT_THE_COHORT)

    # --- the steps ------------------------------------------------------------------------

    async def _live(self, team_id: str, channel_id: str) -> Cohort | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(Cohort).where(
                    Cohort.team_id == team_id,
                    Cohort.channel_id == channel_id,
                    Cohort.ended_at.is_(None),
                )
            )

    async def _may_lead(
        self, team_id: str, cohort: Cohort | None, user_id: str, client: AsyncWebClient | None
    ) -> bool:
        """ADMIN_USER_IDS, the cohort's leads, and the workspace's admins and owners."""
        if user_id in self._admin_ids:
            return True
        if cohort is not None:
            async with self._sessions() as session:
                lead = await session.get(CohortLead, (cohort.id, user_id))
            if lead is not None:
                return True
        return client is not None and await is_workspace_admin(client, user_id)

    async def _add_lead(
        self, session: AsyncSession, cohort: Cohort, user_id: str, now: datetime
    ) -> None:
        await insert_ignoring_duplicates(
            session,
            CohortLead,
            {
                "cohort_id": cohort.id,
                "user_id": user_id,
                "team_id": cohort.team_id,
                "named_at": now,
            },
        )

    async def _members(self, client: AsyncWebClient, channel_id: str) -> list[str]:
        """Everyone in the channel, page by page; the app must be one of them, or it would
        never hear who joins and leaves."""
        members: list[str] = []
        cursor: str | None = None
        try:
            bot_user_id = (await client.auth_test()).get("user_id")
            while True:
                page = await client.conversations_members(
                    channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor
                )
                members += [str(member) for member in page.get("members") or []]
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if cursor is None:
                    break
        except SlackApiError as error:
            raise CannotSeeChannel(str(error.response.get("error"))) from None
        if bot_user_id not in members:
            raise CannotSeeChannel("not_in_channel")
        return members

    async def _enrol(
        self, team_id: str, cohort_id: int, user_id: str, client: AsyncWebClient
    ) -> None:
        """One member: subscribed at the cohort's time, or linked keeping their own, then one
        DM. Someone already in this cohort, or another, is left as they are and gets no DM."""
        person = await read_person(client, team_id, user_id)
        if person is None or not person.can_join:
            return
        now = self._clock()
        zone = zone_or_default(person.tz, self._default_tz)
        async with self._sessions() as session, session.begin():
            cohort = await session.get(Cohort, cohort_id)
            if cohort is None or cohort.ended_at is not None:
                return
            await ensure_member(session, team_id, user_id, now)
            await save_zone(session, team_id, user_id, person.tz, now, self._default_tz)
            schedule = await session.scalar(
                select(Schedule)
                .where(Schedule.team_id == team_id, Schedule.user_id == user_id)
                .with_for_update()
            )
            if schedule is not None and schedule.cohort_id is not None:
                return  # already in this cohort (a retried event) or in another one
            if schedule is None:
                schedule = Schedule(team_id=team_id, user_id=user_id, created_at=now)
                session.add(schedule)
            own = schedule.status == "active"
            stopped = schedule.status is not None and not own
            if stopped and schedule.ended_reason not in COHORT_REASONS:
                schedule.cohort_id = cohort_id  # counted as a member; their stop stands
                schedule.from_cohort = False
                return
            schedule.cohort_id = cohort_id
            schedule.from_cohort = not own
            if not own:
                heard_from(schedule)
                choice = WeeklyChoice(cohort.weekday, time(*divmod(cohort.local_minutes, 60)))
                await set_day_and_time(session, schedule, choice, zone, now)
            region = await holiday_region(session, team_id, user_id, self._default_region)
            view = view_of(schedule, zone, now, region)
            intro = CohortIntro(cohort.channel_id, view, own_schedule=own)
        await self._dm(client, team_id, user_id, self._messages.intro(intro))

    async def _retime(
        self, session: AsyncSession, cohort: Cohort, choice: WeeklyChoice, now: datetime
    ) -> None:
        """The cohort's day or time changed: so do the nudges it set (not those people chose)."""
        schedules = await session.scalars(
            select(Schedule)
            .where(
                Schedule.cohort_id == cohort.id,
                Schedule.from_cohort.is_(True),
                Schedule.status == "active",
            )
            .with_for_update()
        )
        for schedule in schedules:
            zone = await self._stored_zone(session, schedule)
            await set_day_and_time(session, schedule, choice, zone, now)

    async def _stored_zone(self, session: AsyncSession, schedule: Schedule) -> ZoneInfo:
        name = await stored_zone(session, schedule.team_id, schedule.user_id)
        return zone_or_default(name, self._default_tz)

    async def _unlink(self, session: AsyncSession, where: list[Any], reason: str) -> list[str]:
        """Take schedules out of their cohort; stop those the cohort set. Whose were stopped."""
        now = self._clock()
        stopped: list[str] = []
        for schedule in await session.scalars(select(Schedule).where(*where).with_for_update()):
            if schedule.from_cohort and schedule.status == "active":
                await stop_schedule(session, schedule, reason, now)
                stopped.append(schedule.user_id)
            schedule.cohort_id = None
            schedule.from_cohort = False
        return stopped

    async def _dm(
        self, client: AsyncWebClient, team_id: str, user_id: str, message: dict[str, Any]
    ) -> None:
        """One DM; a refusal is logged and the rest carry on (the schedule is already saved)."""
        try:
            await client.chat_postMessage(channel=user_id, **message)
        except SlackApiError as error:
            logger.warning(
                "cohort DM to %s/%s failed: %s", team_id, user_id, error.response.get("error")
            )
