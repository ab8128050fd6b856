"""Looking back: about four weeks after someone wrote a reflection, a nudge shows it to them again.

Read for a whole claimed batch in one query each: which reflection each person could be shown
(`candidates`), and whose recent nudges already carried one (`shown_lately`). Planning decides;
the words stay encrypted on the job until its message is built (`sending.message_for`), and only
the reflection's id is stored on the delivery.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Delivery, Member, Reflection

Person = tuple[str, str]  # team, user

YOUNGEST = timedelta(days=27)  # four weeks, less a day: written just after last month's nudge
OLDEST = timedelta(weeks=6)  # older than this and the moment has passed
EVERY_NUDGES = 3  # at most one nudge in this many carries an earlier reflection
LIVE = ("pending", "retry", "sent")  # a delivery that reached, or may yet reach, its person


@dataclass(frozen=True)
class Earlier:
    """An earlier reflection, its text still encrypted, as a job carries it to the sender."""

    reflection_id: int
    sealed: str
    written_at: datetime
    edited: bool

    def weeks_before(self, due_at: datetime) -> int:
        return round((due_at - self.written_at) / timedelta(weeks=1))


def _earlier(row: Reflection) -> Earlier:
    return Earlier(row.id, row.text, row.created_at, row.edited_at is not None)


async def candidates(
    session: AsyncSession, people: list[Person], now: datetime, oldest: timedelta = OLDEST
) -> dict[Person, Earlier]:
    """Each person's newest reflection written between four and six weeks ago (younger than
    `oldest`, when retention deletes sooner), never shown before, if they have the switch on.
    Deleted and forgotten reflections are simply not there."""
    if not people:
        return {}
    shown = (
        select(Delivery.id)
        .where(
            Delivery.resurfaced_reflection_id == Reflection.id,  # indexed
            Delivery.due_at > Reflection.created_at,  # not a row whose id SQLite gave out again
            Delivery.status.in_(LIVE),
        )
        .exists()
    )
    ranked = (
        select(
            Reflection.id,
            func.row_number()
            .over(
                partition_by=(Reflection.team_id, Reflection.user_id),
                order_by=(Reflection.created_at.desc(), Reflection.id.desc()),
            )
            .label("turn"),
        )
        .join(
            Member,
            and_(Member.team_id == Reflection.team_id, Member.user_id == Reflection.user_id),
        )
        .where(
            tuple_(Reflection.team_id, Reflection.user_id).in_(people),
            Reflection.created_at <= now - YOUNGEST,
            Reflection.created_at > now - min(oldest, OLDEST),
            Member.look_back,
            ~shown,
        )
        .subquery("ranked")
    )
    rows = await session.scalars(
        select(Reflection).join(ranked, ranked.c.id == Reflection.id).where(ranked.c.turn == 1)
    )
    return {(row.team_id, row.user_id): _earlier(row) for row in rows}


async def shown_lately(session: AsyncSession, schedule_ids: list[int]) -> set[int]:
    """Schedules whose last EVERY_NUDGES - 1 nudges included one that carried an earlier
    reflection: their next nudge carries none."""
    if not schedule_ids:
        return set()
    last = (
        select(Delivery.schedule_id, func.max(Delivery.due_at).label("at"))
        .where(
            Delivery.schedule_id.in_(schedule_ids),
            Delivery.resurfaced_reflection_id.is_not(None),
            Delivery.status.in_(LIVE),
        )
        .group_by(Delivery.schedule_id)
        .subquery("last")
    )
    since = (
        select(last.c.schedule_id, func.count(Delivery.id))
        .select_from(last)
        .outerjoin(
            Delivery,
            and_(
                Delivery.schedule_id == last.c.schedule_id,  # indexed: (schedule_id, due_at)
                Delivery.due_at > last.c.at,
                Delivery.kind == "nudge",
                Delivery.status.in_(LIVE),
            ),
        )
        .group_by(last.c.schedule_id)
    )
    rows = await session.execute(since)
    return {schedule_id for schedule_id, after in rows if after < EVERY_NUDGES - 1}


async def still_there(
    session: AsyncSession, deliveries: Collection[Delivery], oldest: timedelta = OLDEST
) -> dict[int, Earlier]:
    """For deliveries claimed again (a retry, or a process that died): the earlier reflection
    each was to show, by delivery id, if it still exists, is its person's, and they still want
    to see it."""
    wanted = {delivery.id: delivery for delivery in deliveries if delivery.resurfaced_reflection_id}
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Reflection)
        .join(
            Member,
            and_(Member.team_id == Reflection.team_id, Member.user_id == Reflection.user_id),
        )
        .where(
            Reflection.id.in_(sorted({d.resurfaced_reflection_id or 0 for d in wanted.values()})),
            Member.look_back,
        )
    )
    found = {row.id: row for row in rows}
    earlier = {}
    for delivery_id, delivery in wanted.items():
        row = found.get(delivery.resurfaced_reflection_id or -1)
        if (
            row is not None
            and (row.team_id, row.user_id) == (delivery.team_id, delivery.user_id)
            and delivery.due_at - min(oldest, OLDEST) < row.created_at
            and row.created_at <= delivery.due_at - YOUNGEST + timedelta(days=1)
        ):
            earlier[delivery_id] = _earlier(row)
    return earlier
