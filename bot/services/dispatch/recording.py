"""Recording: what became of each job, written in batches after it is sent.

Only what Slack accepted counts: a nudge is one more unanswered and its item is seen. A
workspace or member Slack says is gone is stopped here too.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessions, retrying
from bot.metrics import NUDGES, label
from bot.models import Delivery, Member, Schedule, SeenItem
from bot.services.dispatch.claiming import Job
from bot.services.dispatch.planning import Away
from bot.services.dispatch.sending import Outcome
from bot.services.workspaces import deactivate_workspace

MAX_ATTEMPTS = 3


def delivery_values(job: Job, outcome: Outcome, now: datetime) -> dict[str, object]:
    """The delivery's columns after this outcome. A retry out of attempts is failed."""
    status, attempts = outcome.status, None
    if status == "retry":
        attempts = job.attempts + (1 if outcome.count_attempt else 0)
        status = "failed" if attempts >= MAX_ATTEMPTS else "retry"
    values: dict[str, object] = {"status": status, "error": outcome.error and outcome.error[:64]}
    if outcome.channel is not None:
        values["channel_id"] = outcome.channel
    if outcome.ts is not None:
        values["message_ts"] = outcome.ts
        values["sent_at"] = now
    if attempts is not None:
        values["attempts"] = attempts
    return values


class Recorder:
    """Send results written in batches: one transaction per `size` sends, not two per send.
    Members' DM channels and zone checks go along in the same transactions.

    Every batch is written before the pass returns. A process killed before a write leaves those
    deliveries `pending`, as a kill between sending and recording always could: after LEASE the
    next pass looks each one up in its DM history before sending it again.
    """

    def __init__(self, sessions: Sessions, size: int, max_wait: float) -> None:
        self._sessions = sessions
        self._size = size
        self._max_wait = max_wait
        self._members: list[dict[str, object]] = []
        self._deliveries: list[dict[str, object]] = []
        self._oldest = 0.0

    async def channel(self, team_id: str, user_id: str, channel: str) -> None:
        self._members.append({"team_id": team_id, "user_id": user_id, "dm_channel_id": channel})
        await self._added()

    async def profile_read(
        self, team_id: str, user_id: str, now: datetime, away: Away, *, zone: bool
    ) -> None:
        """What the read before a nudge found: leave and Do Not Disturb, read at `now`, and
        (`zone`: Slack gave the zone we have) when the zone was last checked."""
        row: dict[str, object] = {
            "team_id": team_id,
            "user_id": user_id,
            "status_checked_at": now,
            "on_leave": away.on_leave,
            "leave_until": away.leave_until,
            "dnd_until": away.dnd_until,
        }
        if zone:
            row["tz_checked_at"] = now
        self._members.append(row)
        await self._added()

    async def delivery(self, delivery_id: int, values: dict[str, object]) -> None:
        reason = values.get("error")
        NUDGES.labels(
            str(values["status"]), label(reason if isinstance(reason, str) else None)
        ).inc()
        self._deliveries.append({"id": delivery_id, **values})
        await self._added()

    async def _added(self) -> None:
        now = time.monotonic()
        if len(self._members) + len(self._deliveries) == 1:
            self._oldest = now
        if len(self._deliveries) >= self._size or now - self._oldest >= self._max_wait:
            await self.flush()

    async def flush(self) -> None:
        members, self._members = self._members, []
        deliveries, self._deliveries = self._deliveries, []
        if not members and not deliveries:
            return

        async def once() -> None:
            async with self._sessions() as session, session.begin():
                if members:  # by key: someone forgotten meanwhile matches nothing, and no error
                    await _lock_members(session, members)
                    await update_rows(session, Member.__table__, members, ("team_id", "user_id"))
                if deliveries:
                    deliveries.sort(key=lambda row: cast(int, row["id"]))  # locked in id order
                    sent = [cast(int, row["id"]) for row in deliveries if row["status"] == "sent"]
                    newly_sent = await _not_yet_sent(session, sent)
                    await update_rows(session, Delivery.__table__, deliveries, ("id",))
                    await _count_sent(session, newly_sent)

        # Replicas write at once: a deadlock's loser is rolled back whole, and tries again.
        await retrying(once, "recording sends")


async def update_rows(
    session: AsyncSession, table: Any, rows: list[dict[str, object]], keys: tuple[str, ...]
) -> None:
    """UPDATE each row by its key, one executemany per set of columns. A row deleted meanwhile
    (its person confirmed `forget` during the pass) matches nothing; the others are written."""
    shapes: dict[tuple[str, ...], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        shapes[tuple(sorted(row))].append(row)
    for columns, group in shapes.items():
        statement = update(table).where(*(table.c[key] == bindparam(f"key_{key}") for key in keys))
        await session.execute(
            statement,
            [
                {(f"key_{name}" if name in keys else name): row[name] for name in columns}
                for row in group
            ],
        )


async def _lock_members(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Lock the members about to be written, in key order, before any is written: they are
    written one statement per set of columns, and in that order two replicas' batches could
    each hold a row the other waits for."""
    keys = sorted({(str(row["team_id"]), str(row["user_id"])) for row in rows})
    await session.execute(
        select(Member.team_id)
        .where(tuple_(Member.team_id, Member.user_id).in_(keys))
        .order_by(Member.team_id, Member.user_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: the seen items' key checks pass
    )


async def _not_yet_sent(session: AsyncSession, ids: list[int]) -> list[int]:
    """Which of these deliveries are not yet recorded as sent (locked until the batch is written),
    so a nudge is counted once, however many times its result is recorded."""
    if not ids:
        return []
    rows = await session.scalars(
        select(Delivery.id)
        .where(Delivery.id.in_(ids), Delivery.status != "sent")
        .order_by(Delivery.id)
        .with_for_update()
    )
    return list(rows)


async def _count_sent(session: AsyncSession, ids: list[int]) -> None:
    """Only what Slack accepted counts: a nudge is one more unanswered and its item is seen; a
    "how often?" question now waits for its answer. Rows deleted meanwhile count nothing."""
    if not ids:
        return
    ours = Delivery.id.in_(ids)
    counted_at_claim = Delivery.item_cycle.is_(None)  # claimed before the count moved here
    unanswered = select(Delivery.schedule_id).where(
        ours, Delivery.kind == "nudge", ~counted_at_claim, Delivery.responded_at.is_(None)
    )
    await session.execute(
        update(Schedule)
        .where(Schedule.id.in_(unanswered))
        .values(unanswered=Schedule.unanswered + 1)
        .execution_options(synchronize_session=False)
    )
    asked = select(Delivery.schedule_id).where(ours, Delivery.kind == "backoff")
    await session.execute(
        update(Schedule)
        .where(Schedule.id.in_(asked))
        .values(backoff_pending=True)
        .execution_options(synchronize_session=False)
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    seen = select(
        Delivery.team_id,
        Delivery.user_id,
        Delivery.item_kind,
        Delivery.item_id,
        Delivery.item_cycle,
        Delivery.sent_at,
    ).where(ours, Delivery.kind == "nudge", ~counted_at_claim)
    columns = ["team_id", "user_id", "kind", "item_id", "cycle", "seen_at"]
    await session.execute(
        dialect.insert(SeenItem).from_select(columns, seen).on_conflict_do_nothing()
    )


async def stop_workspace(sessions: Sessions, team_id: str, code: str, now: datetime) -> None:
    async with sessions() as session, session.begin():
        await deactivate_workspace(session, team_id, code, now)


async def end_subscription(sessions: Sessions, job: Job, reason: str, now: datetime) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Schedule)
            .where(Schedule.team_id == job.team_id, Schedule.user_id == job.user_id)
            .values(status="ended", ended_reason=reason, next_due_at=None, updated_at=now)
        )
