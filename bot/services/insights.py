"""Figures: a person's own progress, and a workspace's counts for admins (never any text)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import ITEM_KINDS, Library
from bot.db import Sessions
from bot.models import Delivery, Member, Reflection, Schedule, SeasonSummary, SeenItem
from bot.services.profiles import may_see_figures
from bot.services.store import ensure_member
from bot.values import MIN_GROUP as MIN_GROUP
from bot.values import STATS_WEEKS as STATS_WEEKS
from bot.values import CapabilityFigures
from bot.values import Progress as Progress
from bot.values import WeekFigures as WeekFigures
from bot.values import WorkspaceFigures as WorkspaceFigures


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weeks_in_a_row(written: list[datetime], zone: ZoneInfo, today: date) -> int:
    """Consecutive weeks with a reflection, ending this week (or last, if none yet this week)."""
    weeks = {week_start(instant.astimezone(zone).date()) for instant in written}
    current = week_start(today)
    if current not in weeks:
        current -= timedelta(weeks=1)
    streak = 0
    while current in weeks:
        streak += 1
        current -= timedelta(weeks=1)
    return streak


class Insights:
    def __init__(self, sessions: Sessions, library: Library, clock: Clock) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock

    async def progress(
        self, team_id: str, user_id: str, zone: ZoneInfo, capability: str | None = None
    ) -> Progress:
        """Items seen of each kind (of one capability, when given), reflections written and
        weeks in a row."""
        async with self._sessions() as session:
            seen_rows = await session.execute(
                select(SeenItem.kind, SeenItem.item_id)
                .where(SeenItem.team_id == team_id, SeenItem.user_id == user_id)
                .distinct()
            )
            seen = {(kind, item_id) for kind, item_id in seen_rows}
            written = list(
                await session.scalars(
                    select(Reflection.created_at).where(
                        Reflection.team_id == team_id, Reflection.user_id == user_id
                    )
                )
            )
        known = {
            kind: {item.id for item in self._library.items(kind, capability)} for kind in ITEM_KINDS
        }
        return Progress(
            # Only items in the content now: one seen and since retired is not one of these.
            seen={
                kind: sum(1 for item_id in known[kind] if (kind, item_id) in seen)
                for kind in ITEM_KINDS
            },
            totals={kind: len(known[kind]) for kind in ITEM_KINDS},
            reflections=len(written),
            weeks_in_a_row=weeks_in_a_row(written, zone, self._clock().astimezone(zone).date()),
        )

    async def first_home_open(self, team_id: str, user_id: str) -> bool:
        """True exactly once per person, however many Home opens arrive together."""
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await ensure_member(session, team_id, user_id, now)
            result = await session.execute(
                update(Member)
                .where(
                    Member.team_id == team_id,
                    Member.user_id == user_id,
                    Member.home_opened_at.is_(None),
                )
                .values(home_opened_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def has_opened_home(self, team_id: str, user_id: str) -> bool:
        async with self._sessions() as session:
            opened = await session.scalar(
                select(Member.home_opened_at).where(
                    Member.team_id == team_id, Member.user_id == user_id
                )
            )
        return opened is not None

    async def figures_for(
        self,
        team_id: str,
        user_id: str,
        client: AsyncWebClient | None,
        admin_ids: frozenset[str],
        zone: ZoneInfo,
    ) -> WorkspaceFigures | None:
        """The workspace's figures, or None for someone who may not see them."""
        if not await may_see_figures(client, user_id, admin_ids):
            return None
        return await self.workspace(team_id, zone)

    async def workspace(self, team_id: str, zone: ZoneInfo) -> WorkspaceFigures:
        return await self._figures(team_id, zone)

    async def cohort(
        self, team_id: str, cohort_id: int, started_at: datetime, zone: ZoneInfo
    ) -> tuple[int, WorkspaceFigures]:
        """A cohort's members (everyone linked to it, subscribed or not) and their figures since
        the cohort started: the same counts and rules as the workspace's, over its members."""
        async with self._sessions() as session:
            members = await session.scalar(
                select(func.count())
                .select_from(Schedule)
                .where(Schedule.team_id == team_id, Schedule.cohort_id == cohort_id)
            )
        return int(members or 0), await self._figures(team_id, zone, cohort_id, started_at)

    async def _figures(
        self,
        team_id: str,
        zone: ZoneInfo,
        cohort_id: int | None = None,
        started_at: datetime | None = None,
    ) -> WorkspaceFigures:
        """The last STATS_WEEKS weeks (a cohort: only those since it started), over the whole
        workspace or a cohort's members."""
        now = self._clock()
        today = now.astimezone(zone).date()
        first_week = week_start(today) - timedelta(weeks=STATS_WEEKS - 1)
        since = datetime.combine(first_week, datetime.min.time(), tzinfo=zone)
        if started_at is not None:
            first_week = max(first_week, week_start(started_at.astimezone(zone).date()))
            since = max(since, started_at)
        week_count = (week_start(today) - first_week).days // 7 + 1
        in_cohort = select(Schedule.user_id).where(
            Schedule.team_id == team_id, Schedule.cohort_id == cohort_id
        )
        async with self._sessions() as session:
            subscribers, paused = await self._subscriptions(session, team_id, today, cohort_id)
            summaries: int | None = 0
            if cohort_id is None:
                summaries = await session.scalar(
                    select(func.count())
                    .select_from(SeasonSummary)
                    .where(SeasonSummary.team_id == team_id, SeasonSummary.status == "sent")
                )
            sent_where = [
                Delivery.team_id == team_id,
                Delivery.status == "sent",
                Delivery.kind == "nudge",
                Delivery.sent_at >= since,
            ]
            written_where = [Reflection.team_id == team_id, Reflection.created_at >= since]
            if cohort_id is not None:
                sent_where.append(Delivery.user_id.in_(in_cohort))
                written_where.append(Reflection.user_id.in_(in_cohort))
            sent = list(
                await session.execute(
                    select(
                        Delivery.user_id, Delivery.sent_at, Delivery.reflected_at, Delivery.item_id
                    ).where(*sent_where)
                )
            )
            written = list(
                await session.execute(
                    select(Reflection.created_at, Reflection.item_id).where(*written_where)
                )
            )

        def week_of(instant: datetime) -> date:
            return week_start(instant.astimezone(zone).date())

        nudges_by_week = Counter(week_of(row.sent_at) for row in sent)
        nudged_in_week = {(week_of(row.sent_at), row.user_id) for row in sent}
        people_by_week = Counter(week for week, _person in nudged_in_week)
        notes_by_week = Counter(week_of(row.created_at) for row in written)
        weeks = [
            WeekFigures(
                week_start=week,
                nudges_sent=nudges_by_week[week],
                reflections=notes_by_week[week] if people_by_week[week] >= MIN_GROUP else None,
            )
            for week in (first_week + timedelta(weeks=i) for i in range(week_count))
        ]
        people_nudged = len({row.user_id for row in sent})
        items = Counter(row.item_id for row in written if row.item_id)
        return WorkspaceFigures(
            subscribers=subscribers,
            paused=paused,
            weeks=weeks,
            people_nudged=people_nudged,
            nudges_sent=len(sent),
            nudges_reflected=sum(1 for row in sent if row.reflected_at is not None),
            top_items=items.most_common(3) if people_nudged >= MIN_GROUP else None,
            by_capability=self._by_capability(sent, written),
            season_summaries=int(summaries or 0),
        )

    def _by_capability(self, sent: list[Any], written: list[Any]) -> tuple[CapabilityFigures, ...]:
        """Nudges sent and reflections written on each capability's items; the reflections
        only where MIN_GROUP or more people were nudged with that capability."""
        if len(self._library.capabilities) < 2:
            return ()
        of = self._library.capability_of
        nudges = Counter(of(row.item_id) for row in sent if row.item_id)
        people: dict[str | None, set[str]] = defaultdict(set)
        for row in sent:
            if row.item_id:
                people[of(row.item_id)].add(row.user_id)
        notes = Counter(of(row.item_id) for row in written if row.item_id)
        return tuple(
            CapabilityFigures(
                c.id, nudges[c.id], notes[c.id] if len(people[c.id]) >= MIN_GROUP else None
            )
            for c in self._library.capabilities
        )

    async def _subscriptions(
        self, session: AsyncSession, team_id: str, today: date, cohort_id: int | None
    ) -> tuple[int, int]:
        active = (Schedule.team_id == team_id) & (Schedule.status == "active")
        if cohort_id is not None:
            active &= Schedule.cohort_id == cohort_id
        subscribers = await session.scalar(select(func.count()).select_from(Schedule).where(active))
        paused = await session.scalar(
            select(func.count())
            .select_from(Schedule)
            .where(active, Schedule.paused_until >= today)  # as timing.still_paused
        )
        return int(subscribers or 0), int(paused or 0)
