"""Subscribing to the weekly nudge: choose a day and time, pause, resume, stop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import Holiday, holiday_move
from bot.clock import Clock
from bot.db import Sessions
from bot.models import Delivery, Member, Schedule, Workspace
from bot.schedule_words import PauseChoice, WeeklyChoice, parse_pause
from bot.services.profiles import (
    earliest_next_nudge,
    read_zone,
    save_zone,
    stored_zone,
    zone_is_fresh,
    zone_or_default,
)
from bot.services.store import ensure_member
from bot.services.timing import (
    end_of_day,
    next_send_after,
    pause_through,
    still_paused,
    weeks_later,
)
from bot.services.workspaces import REMOVED_REASONS
from bot.values import HomeChange, NudgeChoice
from bot.values import ScheduleView as ScheduleView

PAUSE_A_MONTH_WEEKS = 4
SNOOZE_WEEKS = 1
HOME_PAUSE_WEEKS = 1
WEEKLY_WEEKS = 1
FORTNIGHTLY_WEEKS = 2
WEEKS_TO_LOOK = 8  # for a working day after a run of public holidays: no region has so many

# What each nudge button does: (every_weeks, pause_weeks); None leaves that as it is.
NUDGE_CHOICES: dict[NudgeChoice, tuple[int | None, int | None]] = {
    NudgeChoice.SNOOZE: (None, SNOOZE_WEEKS),
    NudgeChoice.SKIP: (None, None),
    NudgeChoice.WEEKLY: (WEEKLY_WEEKS, None),
    NudgeChoice.FORTNIGHTLY: (FORTNIGHTLY_WEEKS, None),
    NudgeChoice.PAUSE_A_MONTH: (None, PAUSE_A_MONTH_WEEKS),
}


STOPPED_BY_THE_PERSON = "stopped by the person"

# What Slack said of a member's zone: (True, the zone or None) when asked and answered.
ZoneNews = tuple[bool, str | None]
NO_NEWS: ZoneNews = (False, None)


class NotSubscribed(Exception):
    """pause/resume/stop from someone without a weekly nudge."""


def view_of(schedule: Schedule | None, zone: ZoneInfo, now: datetime, region: str) -> ScheduleView:
    """`paused_until` only while the pause lasts, in the member's own calendar. The next nudge
    as it will really go: held (on a holiday, for leave or Do Not Disturb) as the dispatcher
    stored it, else moved off a public holiday in `region` (theirs, else the default)."""
    if schedule is None:
        return ScheduleView(status="none", zone=str(zone), region=region)
    view = ScheduleView(
        status=schedule.status,
        weekday=schedule.weekday,
        local_time=local_time_of(schedule),
        zone=str(zone),
        every_weeks=schedule.every_weeks,
        next_due_at=schedule.next_due_at,
        paused_until=paused_until(schedule, zone, now),
        stopped_by_removal=(
            schedule.status == "stopped" and schedule.ended_reason in REMOVED_REASONS
        ),
        region=region,
    )
    if schedule.status != "active" or schedule.next_due_at is None:
        return view
    if schedule.held_now and schedule.moved_why is not None:
        why, _, name = schedule.moved_why.partition(":")
        return replace(view, moved_from=schedule.moved_from, moved_why=why, holiday=name or None)
    due, holiday = off_holidays(schedule, schedule.next_due_at, zone, region)
    if holiday is None:
        return replace(view, next_due_at=due)
    return replace(
        view,
        next_due_at=holiday.moved_to,
        moved_from=due,
        moved_why="holiday",
        holiday=holiday.name,
    )


def off_holidays(
    schedule: Schedule, due: datetime, zone: ZoneInfo, region: str
) -> tuple[datetime, Holiday | None]:
    """Where the dispatcher will move a nudge due at `due`: to the next working day (the slot
    and the holiday), or, when that would reach the next regular nudge, skipped to that one."""
    local_time = local_time_of(schedule)
    for _ in range(WEEKS_TO_LOOK):
        holiday = holiday_move(due, local_time, zone, region)
        if holiday is None:
            return due, None
        regular = next_due(schedule, due, zone, every_weeks=schedule.every_weeks)
        if holiday.moved_to < regular:
            return due, holiday
        due = regular  # the dispatcher skips that week
    return due, None


def paused_until(schedule: Schedule, zone: ZoneInfo, now: datetime) -> date | None:
    """The last paused day (inclusive) while the pause lasts, in the member's own calendar."""
    until = schedule.paused_until
    return until if still_paused(until, now.astimezone(zone).date()) else None


def local_time_of(schedule: Schedule) -> time:
    return time(schedule.local_minutes // 60, schedule.local_minutes % 60)


def heard_from(schedule: Schedule) -> None:
    """The person chose their rhythm themselves: that answers a pending "how often?" question,
    and the quiet count starts again."""
    schedule.unanswered = 0
    schedule.backoff_pending = False


def next_due(
    schedule: Schedule, after: datetime, zone: ZoneInfo, *, every_weeks: int = 1
) -> datetime:
    """The schedule's next send instant after `after` (fortnightly: after `after` + 7 days)."""
    return next_send_after(
        after, schedule.weekday, local_time_of(schedule), zone, every_weeks=every_weeks
    )


def first_due(schedule: Schedule, zone: ZoneInfo, earliest: datetime) -> datetime:
    """The first slot after `earliest` and on a day after the pause, if there is one."""
    after = earliest
    if schedule.paused_until is not None:
        after = max(after, end_of_day(schedule.paused_until, zone))
    return next_due(schedule, after, zone)


async def call_off_retries(session: AsyncSession, schedule_id: int, reason: str) -> None:
    """A nudge Slack refused, waiting for a later pass, is not sent once the member pauses or
    stops: it would land inside the pause. One already being sent is left to finish."""
    await session.execute(
        update(Delivery)
        .where(Delivery.schedule_id == schedule_id, Delivery.status == "retry")
        .values(status="missed", error=reason)
    )


def pause_for_weeks(schedule: Schedule, weeks: int, zone: ZoneInfo, now: datetime) -> None:
    """Pause from now for `weeks` weeks of the member's calendar (not 168-hour blocks)."""
    end = weeks_later(now, weeks, zone)
    schedule.paused_until = pause_through(end, schedule.weekday, local_time_of(schedule), zone)
    schedule.next_due_at = first_due(schedule, zone, end)


async def set_day_and_time(
    session: AsyncSession, schedule: Schedule, choice: WeeklyChoice, zone: ZoneInfo, now: datetime
) -> None:
    """Set a new or existing schedule's day and time, and when it next sends. Changing the day
    or time of an active schedule keeps its pause and rhythm; any other starts afresh."""
    schedule.weekday = choice.weekday
    schedule.local_minutes = choice.local_time.hour * 60 + choice.local_time.minute
    schedule.updated_at = now
    keeps = schedule.status == "active"
    pause_ends = paused_until(schedule, zone, now) if keeps else None
    if not keeps:
        schedule.status = "active"
        schedule.every_weeks = 1
        schedule.ended_reason = None
    schedule.paused_until = pause_ends
    earliest = now
    if schedule.id is not None:  # never two nudges within 12 hours after a change
        earliest = await earliest_next_nudge(session, schedule.id, now)
    schedule.next_due_at = first_due(schedule, zone, earliest)


async def stop_schedule(
    session: AsyncSession, schedule: Schedule, reason: str, now: datetime
) -> None:
    """No more nudges, for `reason`; one waiting to be tried again is called off."""
    schedule.status = "stopped"
    schedule.ended_reason = reason
    schedule.next_due_at = None
    schedule.paused_until = None
    schedule.updated_at = now
    await call_off_retries(session, schedule.id, "stopped")


async def holiday_region(
    session: AsyncSession, team_id: str, user_id: str, default_region: str
) -> str:
    """The public-holiday region the member chose, else the workspace default."""
    chosen = await session.scalar(
        select(Member.holiday_region).where(Member.team_id == team_id, Member.user_id == user_id)
    )
    return chosen or default_region


class Subscriptions:
    def __init__(
        self, sessions: Sessions, clock: Clock, default_tz: str, *, default_region: str
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._default_tz = default_tz
        self._default_region = default_region

    async def _view(
        self,
        session: AsyncSession,
        team_id: str,
        user_id: str,
        schedule: Schedule | None,
        zone: ZoneInfo,
        now: datetime,
    ) -> ScheduleView:
        region = await holiday_region(session, team_id, user_id, self._default_region)
        return view_of(schedule, zone, now, region)

    async def _ask_slack(
        self, client: AsyncWebClient | None, team_id: str, user_id: str
    ) -> ZoneNews:
        """The member's zone from Slack, when a client is given and ours is missing or a week
        old. Asked before the transaction that stores it: a transaction (on SQLite, the one
        writer's turn) is never held open across a call to Slack."""
        if client is None:
            return NO_NEWS
        async with self._sessions() as session:
            if await zone_is_fresh(session, team_id, user_id, self._clock()):
                return NO_NEWS
        return await read_zone(client, team_id, user_id)

    async def _zone(
        self, session: AsyncSession, news: ZoneNews, team_id: str, user_id: str
    ) -> ZoneInfo:
        """The zone Slack just gave, stored (`save_zone` re-times the next nudge), or as stored."""
        known, name = news
        if known:
            await save_zone(session, team_id, user_id, name, self._clock(), self._default_tz)
        else:
            name = await stored_zone(session, team_id, user_id)
        return zone_or_default(name, self._default_tz)

    async def _schedule(self, session: AsyncSession, team_id: str, user_id: str) -> Schedule | None:
        return await session.scalar(
            select(Schedule)
            .where(Schedule.team_id == team_id, Schedule.user_id == user_id)
            .with_for_update()
        )

    async def view(
        self, team_id: str, user_id: str, client: AsyncWebClient | None = None
    ) -> ScheduleView:
        """Never creates a member (the Home after `forget` must not bring one back); with a
        client it may store a new zone, which re-times the next nudge (`save_zone`)."""
        news = await self._ask_slack(client, team_id, user_id)
        if news[0]:
            async with self._sessions() as session, session.begin():
                zone = await self._zone(session, news, team_id, user_id)
                schedule = await self._schedule(session, team_id, user_id)
                return await self._view(session, team_id, user_id, schedule, zone, self._clock())
        async with self._sessions() as session:  # only reading: no writer's turn to wait for
            zone = await self._zone(session, news, team_id, user_id)
            schedule = await session.scalar(
                select(Schedule).where(Schedule.team_id == team_id, Schedule.user_id == user_id)
            )
            return await self._view(session, team_id, user_id, schedule, zone, self._clock())

    async def subscribe(
        self, team_id: str, user_id: str, choice: WeeklyChoice, client: AsyncWebClient | None
    ) -> ScheduleView:
        now = self._clock()
        news = await self._ask_slack(client, team_id, user_id)
        async with self._sessions() as session, session.begin():
            await ensure_member(session, team_id, user_id, now)
            await session.execute(
                update(Workspace)
                .where(Workspace.team_id == team_id)
                .values(active=True, deactivated_at=None, deactivated_reason=None)
            )
            zone = await self._zone(session, news, team_id, user_id)
            schedule = await self._schedule(session, team_id, user_id)
            if schedule is None:
                schedule = Schedule(team_id=team_id, user_id=user_id, created_at=now)
                session.add(schedule)
            heard_from(schedule)
            schedule.from_cohort = False  # their own choice now, whoever set it before
            await set_day_and_time(session, schedule, choice, zone, now)
            return await self._view(session, team_id, user_id, schedule, zone, now)

    async def pause(
        self, team_id: str, user_id: str, choice: PauseChoice, client: AsyncWebClient | None
    ) -> ScheduleView:
        """Skip nudges for N calendar weeks, or through a date (the first nudge comes after it)."""
        now = self._clock()
        news = await self._ask_slack(client, team_id, user_id)
        async with self._sessions() as session, session.begin():
            zone = await self._zone(session, news, team_id, user_id)
            schedule = await self._active(session, team_id, user_id)
            heard_from(schedule)
            if choice.until is not None:
                schedule.paused_until = choice.until
                earliest = await earliest_next_nudge(session, schedule.id, now)
                schedule.next_due_at = first_due(schedule, zone, earliest)
            else:
                pause_for_weeks(schedule, choice.weeks or 1, zone, now)
            await call_off_retries(session, schedule.id, "paused")
            schedule.updated_at = now
            return await self._view(session, team_id, user_id, schedule, zone, now)

    async def pause_in_words(
        self, team_id: str, user_id: str, args: Sequence[str], client: AsyncWebClient | None
    ) -> ScheduleView:
        """`pause [N]` or `pause until YYYY-MM-DD`, read against "today" where the person is.
        Raises WordsError for words that aren't a pause, NotSubscribed without a weekly nudge."""
        current = await self.view(team_id, user_id, client)
        today = self._clock().astimezone(zone_or_default(current.zone, self._default_tz)).date()
        choice = parse_pause(args, today)
        return await self.pause(team_id, user_id, choice, client)

    async def resume(
        self, team_id: str, user_id: str, client: AsyncWebClient | None
    ) -> ScheduleView:
        now = self._clock()
        news = await self._ask_slack(client, team_id, user_id)
        async with self._sessions() as session, session.begin():
            zone = await self._zone(session, news, team_id, user_id)
            schedule = await self._schedule(session, team_id, user_id)
            if schedule is None or schedule.status == "none":
                raise NotSubscribed
            schedule.status = "active"
            schedule.ended_reason = None
            schedule.paused_until = None
            heard_from(schedule)
            earliest = await earliest_next_nudge(session, schedule.id, now)
            schedule.next_due_at = first_due(schedule, zone, earliest)
            schedule.updated_at = now
            return await self._view(session, team_id, user_id, schedule, zone, now)

    async def stop(self, team_id: str, user_id: str) -> ScheduleView:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            schedule = await self._active(session, team_id, user_id)
            await stop_schedule(session, schedule, STOPPED_BY_THE_PERSON, now)
            zone = zone_or_default(None, self._default_tz)
            return await self._view(session, team_id, user_id, schedule, zone, now)

    async def change_from_home(
        self, team_id: str, user_id: str, change: HomeChange, client: AsyncWebClient | None
    ) -> None:
        """Pause a week, resume or stop from the Home tab. Without a weekly nudge the Home was
        out of date: nothing changes, and republishing it shows the truth."""
        try:
            if change is HomeChange.PAUSE_A_WEEK:
                await self.pause(team_id, user_id, PauseChoice(weeks=HOME_PAUSE_WEEKS), client)
            elif change is HomeChange.RESUME:
                await self.resume(team_id, user_id, client)
            else:
                await self.stop(team_id, user_id)
        except NotSubscribed:
            pass

    async def choose_on_nudge(
        self,
        team_id: str,
        user_id: str,
        delivery_id: int,
        choice: NudgeChoice,
        client: AsyncWebClient | None = None,
    ) -> ScheduleView:
        """A button on a nudge or on the "how often?" question: snooze a week, skip, weekly,
        fortnightly, or pause a month. Raises NotSubscribed without an active weekly nudge."""
        every_weeks, pause_weeks = NUDGE_CHOICES[choice]
        return await self.answer_nudge(
            team_id,
            user_id,
            delivery_id,
            every_weeks=every_weeks,
            pause_weeks=pause_weeks,
            client=client,
        )

    async def answer_nudge(
        self,
        team_id: str,
        user_id: str,
        delivery_id: int,
        *,
        every_weeks: int | None = None,
        pause_weeks: int | None = None,
        client: AsyncWebClient | None = None,
    ) -> ScheduleView:
        """A button on a nudge was pressed: it counts as a response, and may change the rhythm."""
        now = self._clock()
        news = await self._ask_slack(client, team_id, user_id)
        async with self._sessions() as session, session.begin():
            zone = await self._zone(session, news, team_id, user_id)
            await session.execute(
                update(Delivery)
                .where(
                    Delivery.id == delivery_id,
                    Delivery.team_id == team_id,
                    Delivery.user_id == user_id,
                    Delivery.responded_at.is_(None),
                )
                .values(responded_at=now)
            )
            schedule = await self._active(session, team_id, user_id)
            schedule.unanswered = 0
            schedule.backoff_pending = False
            if every_weeks is not None:
                schedule.every_weeks = every_weeks
            if pause_weeks is not None:
                pause_for_weeks(schedule, pause_weeks, zone, now)
                await call_off_retries(session, schedule.id, "paused")
            schedule.updated_at = now
            return await self._view(session, team_id, user_id, schedule, zone, now)

    async def _active(self, session: AsyncSession, team_id: str, user_id: str) -> Schedule:
        schedule = await self._schedule(session, team_id, user_id)
        if schedule is None or schedule.status != "active":
            raise NotSubscribed
        return schedule
