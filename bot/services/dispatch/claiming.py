"""Claiming: due schedules and abandoned deliveries become jobs, each in one transaction.

Claiming locks due schedules (`FOR UPDATE SKIP LOCKED` on PostgreSQL), writes a delivery whose
unique key is (schedule, due instant) and advances `next_due_at`, all at once, so another
replica never claims the same nudge. What each schedule gets is decided by `planning.plan`.

Workspaces take turns in every claim: each due schedule is ranked within its workspace and
the claim takes rank 1 of every workspace, then rank 2, and so on, so a batch smaller than the
due set still reaches every workspace, and each sends at its own pace from the start.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, and_, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Bundle

from bot.content import Library
from bot.db import Sessions
from bot.models import Cohort, Delivery, Member, Schedule, SeenItem, Workspace
from bot.services.dispatch.looking_back import (
    OLDEST,
    Earlier,
    candidates,
    shown_lately,
    still_there,
)
from bot.services.dispatch.planning import Away, Due, History, Moved, Person, Plan, plan
from bot.services.profiles import zone_or_default
from bot.services.rotation import Seen
from bot.services.timing import MAX_LATE

LEASE = timedelta(minutes=2)  # a claim older than this, still unconfirmed, was abandoned
# A zone read this recently, by this process or another replica, counts as read before the nudge:
# replicas due the same people in the same minute read each zone once between them.
ZONE_READ_WITHIN = timedelta(minutes=1)


@dataclass
class Job:
    delivery_id: int
    team_id: str
    user_id: str
    kind: str
    item_id: str | None
    question_id: str | None
    follow_up_item_id: str | None
    channel_id: str | None
    attempts: int
    recovering: bool
    due_at: datetime | None = None
    earlier: Earlier | None = None  # an earlier reflection to show again, its words encrypted
    welcome_back: bool = False  # back from leave: the nudge says welcome back

    @classmethod
    def of(
        cls,
        delivery: Delivery,
        channel_id: str | None,
        *,
        recovering: bool,
        earlier: Earlier | None = None,
    ) -> Job:
        return cls(
            delivery_id=delivery.id,
            team_id=delivery.team_id,
            user_id=delivery.user_id,
            kind=delivery.kind,
            item_id=delivery.item_id,
            question_id=delivery.question_id,
            follow_up_item_id=delivery.follow_up_item_id,
            channel_id=delivery.channel_id or channel_id,
            attempts=delivery.attempts or 0,
            recovering=recovering,
            due_at=delivery.due_at,
            earlier=earlier,
            welcome_back=bool(delivery.welcome_back),
        )


@dataclass(frozen=True)
class Claimed:
    jobs: list[Job]
    unread: list[tuple[str, str, str | None]]  # (team, user, stored zone): read these first
    missed: int  # too late to send: recorded as missed
    held: Mapping[str, int]  # nudges that wait (or, on leave, skip the week), by why
    found: int  # due rows the claim found (claimed, missed or unread): fewer than asked = no more
    teams: frozenset[str]  # the workspaces of those rows


def due_of(
    schedule: Schedule,
    tz: str | None,
    default_tz: str,
    focus: str | None = None,
    cohort_focus: str | None = None,
    *,
    region: str = "NZ",
    away: Away | None = None,
) -> Due:
    assert schedule.next_due_at is not None
    moved = None
    if schedule.held_now:
        assert schedule.moved_from and schedule.moved_to and schedule.moved_why  # held_now
        moved = Moved(
            schedule.moved_from, schedule.moved_why, schedule.late_from or schedule.moved_to
        )
    return Due(
        schedule_id=schedule.id,
        team_id=schedule.team_id,
        user_id=schedule.user_id,
        due_at=schedule.next_due_at,
        weekday=schedule.weekday,
        local_time=time(schedule.local_minutes // 60, schedule.local_minutes % 60),
        zone=zone_or_default(tz, default_tz),
        every_weeks=schedule.every_weeks,
        unanswered=schedule.unanswered,
        backoff_pending=schedule.backoff_pending,
        last_delivery_id=schedule.last_delivery_id,
        focus=focus,
        cohort_focus=cohort_focus,
        region=region,
        away=away or Away(),
        moved=moved,
        welcome_back=schedule.welcome_back,
    )


# What a claim reads of each member: columns in a bundle (row.tz, row.focus…), not ORM objects,
# which would cost a pass of 10,000 nudges about a sixth more CPU.
MEMBER_FACTS: Bundle[Any] = Bundle(
    "member",
    Member.tz,
    Member.dm_channel_id,
    Member.status_checked_at,
    Member.focus,
    Member.holiday_region,
    Member.on_leave,
    Member.leave_until,
    Member.dnd_until,
)


class MemberFacts(Protocol):
    tz: str | None
    dm_channel_id: str | None
    status_checked_at: datetime | None
    focus: str | None
    holiday_region: str | None
    on_leave: bool
    leave_until: datetime | None
    dnd_until: datetime | None


def away_of(member: MemberFacts, now: datetime) -> Away:
    """What the last read before a nudge found, if it was just now (by any replica); else
    nothing: an old answer says nothing of today."""
    if not zone_fresh(member.status_checked_at, now):
        return Away()
    return Away(member.on_leave, member.leave_until, member.dnd_until)


def _apply(schedule: Schedule, due: Due, planned: Plan, now: datetime) -> Delivery:
    """Write a plan back: a new delivery, and the schedule moved to its next due instant."""
    schedule.updated_at = now
    schedule.next_due_at = planned.next_due_at
    schedule.every_weeks = planned.every_weeks
    schedule.unanswered = planned.unanswered
    schedule.backoff_pending = planned.backoff_pending
    schedule.welcome_back = planned.welcome_back
    moved = planned.moved
    schedule.moved_from = moved.moved_from if moved else None
    schedule.moved_why = moved.why if moved else None
    schedule.moved_to = planned.next_due_at if moved else None
    schedule.late_from = moved.late_from if moved else None
    return Delivery(
        schedule_id=due.schedule_id,
        team_id=due.team_id,
        user_id=due.user_id,
        due_at=due.due_at,
        kind=planned.kind,
        status=planned.status,
        attempts=0,
        claimed_at=now,
        item_kind=planned.item_kind,
        item_id=planned.item_id,
        item_cycle=planned.item_cycle,
        question_id=planned.question_id,
        follow_up_item_id=planned.follow_up_item_id,
        resurfaced_reflection_id=planned.resurfaced_reflection_id,
        error=planned.error,
        welcome_back=planned.says_welcome_back,
    )


async def claim_due(
    sessions: Sessions,
    *,
    now: datetime,
    batch: int,
    zones_read: Mapping[Person, Away],
    only_installed: bool,
    default_tz: str,
    default_region: str,
    library: Library,
    rng: random.Random,
    per_workspace: int | None = None,
    skip_teams: Collection[str] = (),
    oldest: timedelta = OLDEST,
) -> Claimed:
    """Claim due schedules whose zone was read in this pass (with what their Slack status and
    Do Not Disturb said, in `zones_read`) or just now by another replica; the others are
    returned as (team, user, stored zone) to be read first, since a new zone may re-time them.

    At most `batch` rows, workspaces in turn; at most `per_workspace` of each workspace, and
    none of `skip_teams` (workspaces that already have enough claimed and waiting). No earlier
    reflection shown again is `oldest` or older (retention deletes them then).
    """
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                _due_in_turn(now, batch, only_installed, per_workspace, skip_teams).with_for_update(
                    of=Schedule, skip_locked=True
                )
            )
        ).all()
        found = len(rows)
        teams = frozenset(row[0].team_id for row in rows)

        def read(schedule: Schedule, member: MemberFacts) -> bool:
            return (schedule.team_id, schedule.user_id) in zones_read or zone_fresh(
                member.status_checked_at, now
            )

        unread = [
            (schedule.team_id, schedule.user_id, member.tz)
            for schedule, member, _ in rows
            if not read(schedule, member)
        ]
        rows = [row for row in rows if read(row[0], row[1])]
        if not rows:
            return Claimed([], unread, 0, {}, found, teams)
        people = [(row[0].team_id, row[0].user_id) for row in rows]
        earlier = await candidates(session, people, now, oldest)
        history = History(
            seen=await _seen_for(session, people),
            nudged=await _nudged_kinds(session, [row[0].id for row in rows]),
            reflected=await _reflected_items(
                session, [row[0].last_delivery_id for row in rows if row[0].last_delivery_id]
            ),
            earlier={person: found.reflection_id for person, found in earlier.items()},
            shown_lately=await shown_lately(session, [row[0].id for row in rows]),
        )
        missed = 0
        held: Counter[str] = Counter()
        planned: list[tuple[Delivery, Schedule, str | None]] = []
        for schedule, member, cohort_focus in rows:
            person = (schedule.team_id, schedule.user_id)
            claimed = due_of(
                schedule,
                member.tz,
                default_tz,
                member.focus,
                cohort_focus,
                region=member.holiday_region or default_region,
                away=zones_read[person] if person in zones_read else away_of(member, now),
            )
            decided = plan(claimed, now, history, library, rng)
            delivery = _apply(schedule, claimed, decided, now)
            if decided.hold is not None:  # no delivery: the nudge waits, or skips the week
                held[decided.hold] += 1
                continue
            if delivery.status == "missed":
                missed += 1
                session.add(delivery)
                continue
            planned.append((delivery, schedule, member.dm_channel_id))
        session.add_all([delivery for delivery, *_ in planned])
        await session.flush()
        jobs = []
        for delivery, schedule, channel_id in planned:
            schedule.last_delivery_id = delivery.id
            shown = earlier.get((delivery.team_id, delivery.user_id))
            if delivery.resurfaced_reflection_id is None:
                shown = None
            jobs.append(Job.of(delivery, channel_id, recovering=False, earlier=shown))
        return Claimed(jobs, unread, missed, held, found, teams)


def zone_fresh(checked: datetime | None, now: datetime) -> bool:
    """Read recently enough, by any replica, to count as read before a nudge due `now`
    (`members.status_checked_at`: only the read before a nudge sets it)."""
    return checked is not None and checked >= now - ZONE_READ_WITHIN


def _due_in_turn(
    now: datetime,
    batch: int,
    only_installed: bool,
    per_workspace: int | None,
    skip_teams: Collection[str],
) -> Select[Schedule, Any, str | None]:
    """Due schedules, workspaces in turn (lock them with `with_for_update` to claim them).

    PostgreSQL allows no FOR UPDATE in a query with a window function, so the ranks come from a
    subquery and the outer query locks. The outer query repeats the due test: when a row was
    claimed and committed by another replica after this query's snapshot, PostgreSQL re-checks
    the outer conditions on the row's new version, and it drops out instead of being claimed
    twice (the ranks are not re-checked; they only order)."""
    is_due = and_(Schedule.next_due_at <= now, Schedule.status == "active")
    ranked = select(
        Schedule.id,
        func.row_number()
        .over(partition_by=Schedule.team_id, order_by=(Schedule.next_due_at, Schedule.id))
        .label("turn"),
    ).where(is_due)
    if skip_teams:
        ranked = ranked.where(Schedule.team_id.not_in(list(skip_teams)))
    if only_installed:
        # Multi-workspace mode: a workspace the app is not installed in can't be sent to; its
        # nudges stay due (until too late, then missed), never claimed and burnt.
        ranked = ranked.join(Workspace, Workspace.team_id == Schedule.team_id).where(
            Workspace.active
        )
    turns = ranked.subquery("turns")
    query = (
        select(Schedule, MEMBER_FACTS, Cohort.focus)
        .join(turns, turns.c.id == Schedule.id)
        .join(
            Member,
            and_(Member.team_id == Schedule.team_id, Member.user_id == Schedule.user_id),
        )
        # The focus comes with the row: no query per nudge.
        .outerjoin(Cohort, and_(Cohort.id == Schedule.cohort_id, Cohort.ended_at.is_(None)))
        .where(is_due)
    )
    if per_workspace is not None:
        query = query.where(turns.c.turn <= per_workspace)
    return query.order_by(turns.c.turn, Schedule.next_due_at, Schedule.id).limit(batch)


async def due_next(
    sessions: Sessions,
    *,
    now: datetime,
    batch: int,
    only_installed: bool,
    per_workspace: int | None = None,
    skip_teams: Collection[str] = (),
) -> list[tuple[str, str, str | None]]:
    """The people (team, user, stored zone) the next claims would take, without claiming or
    locking anything, whose zones were not read just now: their zones can be read ahead, while
    the claims before them are sent."""
    query = _due_in_turn(now, batch, only_installed, per_workspace, skip_teams)
    async with sessions() as session:
        rows = await session.execute(
            query.with_only_columns(
                Schedule.team_id, Schedule.user_id, Member.tz, Member.status_checked_at
            )
        )
        return [
            (row.team_id, row.user_id, row.tz)
            for row in rows
            if not zone_fresh(row.status_checked_at, now)
        ]


async def _seen_for(session: AsyncSession, people: list[Person]) -> dict[Person, list[Seen]]:
    rows = await session.execute(
        select(
            SeenItem.team_id, SeenItem.user_id, SeenItem.kind, SeenItem.item_id, SeenItem.cycle
        ).where(tuple_(SeenItem.team_id, SeenItem.user_id).in_(people))
    )
    seen: dict[Person, list[Seen]] = defaultdict(list)
    for row in rows:
        seen[(row.team_id, row.user_id)].append(Seen(row.kind, row.item_id, row.cycle))
    return seen


async def _nudged_kinds(
    session: AsyncSession, schedule_ids: list[int]
) -> dict[Person, dict[str, datetime]]:
    """When each kind was last a person's nudge: kinds take turns in the nudges, whatever
    they asked for themselves. A nudge that never reached them took no turn."""
    rows = await session.execute(
        select(Delivery.team_id, Delivery.user_id, Delivery.item_kind, func.max(Delivery.due_at))
        .where(
            Delivery.schedule_id.in_(schedule_ids),  # indexed: (schedule_id, due_at)
            Delivery.kind == "nudge",
            Delivery.item_kind.is_not(None),
            Delivery.status.in_(("pending", "retry", "sent")),
        )
        .group_by(Delivery.team_id, Delivery.user_id, Delivery.item_kind)
    )
    nudged: dict[Person, dict[str, datetime]] = defaultdict(dict)
    for team_id, user_id, kind, last in rows:
        assert kind is not None  # the query keeps only nudges that had an item
        nudged[(team_id, user_id)][kind] = last
    return nudged


async def _reflected_items(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    """Last nudges that got a reflection: the next nudge opens by naming their item."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Delivery.id, Delivery.item_id).where(
            Delivery.id.in_(ids), Delivery.reflected_at.is_not(None)
        )
    )
    return {row.id: row.item_id for row in rows if row.item_id}


async def reclaim(
    sessions: Sessions, *, now: datetime, batch: int, oldest: timedelta = OLDEST
) -> tuple[list[Job], int]:
    """Deliveries left unconfirmed by a process that died, or waiting to retry; and how many of
    them were too late, recorded as missed."""
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(
                select(Delivery, Member.dm_channel_id)
                .join(
                    Member,
                    and_(Member.team_id == Delivery.team_id, Member.user_id == Delivery.user_id),
                )
                .where(
                    or_(
                        # Retries wait for a later pass: never again in the pass that failed.
                        and_(Delivery.status == "retry", Delivery.claimed_at < now),
                        and_(Delivery.status == "pending", Delivery.claimed_at < now - LEASE),
                    )
                )
                .limit(batch)
                .with_for_update(of=Delivery, skip_locked=True)
            )
        ).all()
        jobs = []
        missed = 0
        earlier = await still_there(session, [delivery for delivery, _ in rows], oldest)
        for delivery, channel_id in rows:
            if now - delivery.due_at > MAX_LATE:
                delivery.status = "missed"
                missed += 1
                continue
            delivery.status = "pending"
            delivery.claimed_at = now
            shown = earlier.get(delivery.id)
            if shown is None:  # gone, or no longer wanted, since the claim: shown without it
                delivery.resurfaced_reflection_id = None
            jobs.append(Job.of(delivery, channel_id, recovering=True, earlier=shown))
        return jobs, missed


async def renew_claims(sessions: Sessions, ids: Collection[int], now: datetime) -> None:
    """Claims of jobs still waiting their turn stay fresh, so no other replica takes them over.

    A row locked just now is being recorded (sent or not): it needs no renewing, and waiting
    for it could deadlock with the recording, which locks rows in another order."""
    waiting = (
        select(Delivery.id)
        .where(Delivery.id.in_(list(ids)), Delivery.status == "pending")
        .with_for_update(skip_locked=True)
    )
    async with sessions() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(waiting.scalar_subquery()))
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
