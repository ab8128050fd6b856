"""Reflections: what people write back. Theirs alone: never logged, never shown to anyone else."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.clock import Clock
from bot.content import Library
from bot.crypto import Keyring
from bot.db import Sessions, retrying
from bot.metrics import REFLECTIONS
from bot.models import CohortLead, Delivery, Member, Reflection, Schedule, SeenItem
from bot.services.profiles import stored_zone
from bot.services.store import ensure_member, insert_ignoring_duplicates
from bot.values import MAX_MODAL_CHARS as MAX_MODAL_CHARS
from bot.values import MAX_REFLECTION_CHARS as MAX_REFLECTION_CHARS
from bot.values import Entry as Entry
from bot.values import ForgetReport as ForgetReport
from bot.values import ReflectPrompt

LINK_WINDOW = timedelta(days=7)  # a top-level DM this soon after a nudge answers it
CLOCK_SKEW = timedelta(minutes=-5)  # Slack's clock and ours may differ a little
JOURNAL_PAGE = 10
CHUNK = 500  # ids per statement when un-counting many deleted reflections at once


class ReflectionTooLong(ValueError):
    """Longer than MAX_REFLECTION_CHARS: not stored; the person is asked to split it."""


class ModalReflectionTooLong(ValueError):
    """Longer than MAX_MODAL_CHARS from the Reflect modal: not stored; the modal says so."""


def storable(text: str) -> str:
    """The text as it can be stored: without NUL characters, which PostgreSQL refuses."""
    text = text.replace("\x00", "")
    if len(text) > MAX_REFLECTION_CHARS:
        raise ReflectionTooLong
    return text


@dataclass(frozen=True)
class Captured:
    created: bool
    linked_delivery_id: int | None = None


def message_time(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


class Reflections:
    """The text is encrypted with the keyring before it is written and decrypted when read."""

    def __init__(self, sessions: Sessions, clock: Clock, keyring: Keyring) -> None:
        self._sessions = sessions
        self._clock = clock
        self._keyring = keyring

    async def capture_dm(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        ts: str,
        thread_ts: str | None,
        text: str,
    ) -> Captured:
        """Store a DM reply once, however many times Slack delivers it, linked to its nudge.
        A transient database error is tried again: the unique key makes a repeat harmless."""
        text = storable(text)  # before any try: too long is never transient

        async def once() -> Captured:
            return await self._capture_dm(team_id, user_id, channel_id, ts, thread_ts, text)

        return await retrying(once, "capturing a reflection")

    async def _capture_dm(
        self,
        team_id: str,
        user_id: str,
        channel_id: str,
        ts: str,
        thread_ts: str | None,
        text: str,
    ) -> Captured:
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await ensure_member(session, team_id, user_id, now)
            delivery, source = await self._answered_nudge(
                session, team_id, user_id, channel_id, ts, thread_ts
            )
            earlier = await _looked_back_at(session, delivery)
            values = {
                "team_id": team_id,
                "user_id": user_id,
                "source": source,
                "channel_id": channel_id,
                "message_ts": ts,
                "delivery_id": delivery.id if delivery else None,
                "item_id": delivery.item_id if delivery else None,
                "question_id": delivery.question_id if delivery and earlier is None else None,
                "looks_back_at": earlier,
                "text": self._keyring.encrypt(text),
                "created_at": message_time(ts),
            }
            inserted = await insert_ignoring_duplicates(
                session, Reflection, values, returning=Reflection.id
            )
            if inserted is None:
                return Captured(created=False)
            if delivery is not None:
                await self._mark_answered(session, delivery.id, team_id, user_id, now)
        REFLECTIONS.labels("stored").inc()
        return Captured(created=True, linked_delivery_id=delivery.id if delivery else None)

    async def _answered_nudge(
        self,
        session: AsyncSession,
        team_id: str,
        user_id: str,
        channel_id: str,
        ts: str,
        thread_ts: str | None,
    ) -> tuple[Delivery | None, str]:
        if thread_ts and thread_ts != ts:
            # Only the person's own nudge: a reply by anyone else never answers it.
            in_thread = await session.scalar(
                select(Delivery).where(
                    Delivery.team_id == team_id,
                    Delivery.user_id == user_id,
                    Delivery.channel_id == channel_id,
                    Delivery.message_ts == thread_ts,
                )
            )
            if in_thread is not None:
                return in_thread, "thread"
        latest = await session.scalar(
            select(Delivery)
            .where(
                Delivery.team_id == team_id,
                Delivery.user_id == user_id,
                # The "how often?" question too: a reply to it is its answer.
                Delivery.kind.in_(("nudge", "backoff")),
                Delivery.status == "sent",
                Delivery.sent_at.is_not(None),
            )
            .order_by(Delivery.sent_at.desc(), Delivery.id.desc())
            .limit(1)
        )
        since_nudge = message_time(ts) - latest.sent_at if latest and latest.sent_at else None
        if since_nudge is not None and CLOCK_SKEW <= since_nudge <= LINK_WINDOW:
            return latest, "dm"
        return None, "free"

    async def _mark_answered(
        self, session: AsyncSession, delivery_id: int, team_id: str, user_id: str, now: datetime
    ) -> None:
        """A reflection is a response: it resets the quiet count and earns next week's follow-up."""
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(
                reflected_at=func.coalesce(Delivery.reflected_at, now),
                responded_at=func.coalesce(Delivery.responded_at, now),
            )
        )
        await session.execute(
            update(Schedule)
            .where(Schedule.team_id == team_id, Schedule.user_id == user_id)
            .values(unanswered=0, backoff_pending=False)
        )

    async def edit_dm(
        self, team_id: str, user_id: str, channel_id: str, ts: str, text: str
    ) -> bool:
        """The person edited their reply in Slack: keep the new words and when.

        Only its author's edit counts, in the DM the reply was written in (their own DM with
        the app): an event naming anyone else changes nothing."""
        text = storable(text)

        async def once() -> bool:
            async with self._sessions() as session, session.begin():
                result = await session.execute(
                    update(Reflection)
                    .where(*_own_message(team_id, user_id, channel_id, ts))
                    .values(text=self._keyring.encrypt(text), edited_at=self._clock())
                )
                return bool(result.rowcount)  # type: ignore[attr-defined]

        edited = await retrying(once, "editing a reflection")
        if edited:
            REFLECTIONS.labels("edited").inc()
        return edited

    async def delete_dm(self, team_id: str, user_id: str, channel_id: str, ts: str) -> bool:
        """Remove a reflection whose message its author deleted; True if there was one."""

        async def once() -> bool:
            async with self._sessions() as session, session.begin():
                gone = await _delete_reflections(
                    session, _own_message(team_id, user_id, channel_id, ts)
                )
                return bool(gone)

        deleted = await retrying(once, "deleting a reflection")
        if deleted:
            REFLECTIONS.labels("deleted").inc()
        return deleted

    async def reflect_prompt(
        self, team_id: str, user_id: str, delivery_id: int, library: Library
    ) -> ReflectPrompt:
        """The item and question of the person's own nudge (never someone else's), for the
        Reflect modal; either is None when its content was retired since the nudge was sent."""
        async with self._sessions() as session:
            nudge = await session.scalar(
                select(Delivery).where(
                    Delivery.id == delivery_id,
                    Delivery.team_id == team_id,
                    Delivery.user_id == user_id,
                )
            )
            looking_back = await _looked_back_at(session, nudge) is not None
        if nudge is None:
            return ReflectPrompt()
        item = question = None
        with contextlib.suppress(KeyError):
            item = library.item(nudge.item_id or "")
            if not looking_back:  # the nudge asked what has changed since, instead
                question = library.question(nudge.question_id or "")
        return ReflectPrompt(item, question, looking_back)

    async def capture_modal(
        self, team_id: str, user_id: str, delivery_id: int | None, text: str
    ) -> int:
        """Raises ModalReflectionTooLong past MAX_MODAL_CHARS (Slack's own limit on the box)."""
        if len(text) > MAX_MODAL_CHARS:
            raise ModalReflectionTooLong
        text = storable(text)
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await ensure_member(session, team_id, user_id, now)
            delivery = None
            if delivery_id is not None:
                delivery = await session.scalar(
                    select(Delivery).where(
                        Delivery.id == delivery_id,
                        Delivery.team_id == team_id,
                        Delivery.user_id == user_id,
                    )
                )
            earlier = await _looked_back_at(session, delivery)
            reflection = Reflection(
                team_id=team_id,
                user_id=user_id,
                source="modal",
                delivery_id=delivery.id if delivery else None,
                item_id=delivery.item_id if delivery else None,
                question_id=delivery.question_id if delivery and earlier is None else None,
                looks_back_at=earlier,
                text=self._keyring.encrypt(text),
                created_at=now,
            )
            session.add(reflection)
            await session.flush()
            if delivery is not None:
                await self._mark_answered(session, delivery.id, team_id, user_id, now)
        REFLECTIONS.labels("stored").inc()
        return reflection.id

    async def page(
        self, team_id: str, user_id: str, *, offset: int = 0, limit: int = JOURNAL_PAGE
    ) -> tuple[list[Entry], bool]:
        """Newest first; the flag says whether there are older ones."""
        async with self._sessions() as session:
            rows = await session.execute(
                _with_earlier()
                .where(Reflection.team_id == team_id, Reflection.user_id == user_id)
                .order_by(Reflection.created_at.desc(), Reflection.id.desc())
                .offset(max(0, offset))
                .limit(limit + 1)
            )
            entries = [self._entry(row, earlier) for row, earlier in rows]
        return entries[:limit], len(entries) > limit

    async def everything(self, team_id: str, user_id: str) -> list[Entry]:
        """All of a person's reflections, oldest first, for their export."""
        async with self._sessions() as session:
            rows = await session.execute(
                _with_earlier()
                .where(Reflection.team_id == team_id, Reflection.user_id == user_id)
                .order_by(Reflection.created_at, Reflection.id)
            )
            return [self._entry(row, earlier) for row, earlier in rows]

    async def zone_name(self, team_id: str, user_id: str) -> str | None:
        async with self._sessions() as session:
            return await stored_zone(session, team_id, user_id)

    async def forget(self, team_id: str, user_id: str) -> ForgetReport:
        """Delete everything stored about one person in one workspace."""
        async with self._sessions() as session, session.begin():
            counts = []
            for model in (Reflection, Delivery, Schedule, SeenItem):
                result = await session.execute(
                    delete(model).where(model.team_id == team_id, model.user_id == user_id)
                )
                counts.append(int(result.rowcount or 0))  # type: ignore[attr-defined]
            for other in (CohortLead, Member):  # leading a cohort is about them too
                await session.execute(
                    delete(other).where(other.team_id == team_id, other.user_id == user_id)
                )
        REFLECTIONS.labels("deleted").inc(counts[0])
        return ForgetReport(*counts)

    async def delete_older_than(self, days: int) -> int:
        """Retention: remove reflections written more than `days` days ago."""
        cutoff = self._clock() - timedelta(days=days)
        async with self._sessions() as session, session.begin():
            deleted = await _delete_reflections(session, [Reflection.created_at < cutoff])
        REFLECTIONS.labels("deleted").inc(deleted)
        return deleted

    def _entry(self, row: Reflection, earlier: datetime | None) -> Entry:
        return Entry(
            id=row.id,
            text=self._keyring.decrypt(row.text),
            created_at=row.created_at,
            edited=row.edited_at is not None,
            item_id=row.item_id,
            question_id=row.question_id,
            looks_back_to=earlier,
        )


def _with_earlier() -> Select[Reflection, datetime]:
    """Reflections, each with when the earlier reflection it looks back at was written (None
    for most: an outer join)."""
    earlier = aliased(Reflection)
    return select(Reflection, earlier.created_at).outerjoin(
        earlier, earlier.id == Reflection.looks_back_at
    )


async def _delete_reflections(session: AsyncSession, where: list[Any]) -> int:
    """Delete the reflections matching `where`, and stop counting them: a nudge whose only
    reflection is gone no longer counts as reflected on, and a nudge not yet sent no longer
    opens with "Last time you reflected on" an item its person has no reflection on now."""
    rows = (
        await session.execute(
            delete(Reflection)
            .where(*where)
            .returning(Reflection.team_id, Reflection.user_id, Reflection.delivery_id)
        )
    ).all()
    nudges = sorted({row.delivery_id for row in rows if row.delivery_id is not None})
    people = sorted({(row.team_id, row.user_id) for row in rows})
    still_reflected = (
        select(Reflection.id)
        .where(  # the person's own reflections (indexed), on this nudge
            Reflection.team_id == Delivery.team_id,
            Reflection.user_id == Delivery.user_id,
            Reflection.delivery_id == Delivery.id,
        )
        .exists()
    )
    for start in range(0, len(nudges), CHUNK):
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(nudges[start : start + CHUNK]), ~still_reflected)
            .values(reflected_at=None)
        )
    earlier = aliased(Delivery)
    follow_up_stands = (
        select(earlier.id)
        .where(
            earlier.schedule_id == Delivery.schedule_id,  # the same person's nudges (indexed)
            earlier.item_id == Delivery.follow_up_item_id,
            earlier.reflected_at.is_not(None),
        )
        .exists()
    )
    for start in range(0, len(people), CHUNK):
        await session.execute(
            update(Delivery)
            .where(
                tuple_(Delivery.team_id, Delivery.user_id).in_(people[start : start + CHUNK]),
                Delivery.status.in_(("pending", "retry")),
                Delivery.follow_up_item_id.is_not(None),
                ~follow_up_stands,
            )
            .values(follow_up_item_id=None)
        )
    return len(rows)


async def _looked_back_at(session: AsyncSession, nudge: Delivery | None) -> int | None:
    """The earlier reflection a nudge showed again, if it is still there: a reply to that nudge
    looks back at it."""
    if nudge is None or nudge.resurfaced_reflection_id is None:
        return None
    return await session.scalar(
        select(Reflection.id).where(
            Reflection.id == nudge.resurfaced_reflection_id,
            Reflection.team_id == nudge.team_id,  # their own, never anyone else's
            Reflection.user_id == nudge.user_id,
            Reflection.created_at < nudge.due_at,
        )
    )


def _own_message(team_id: str, user_id: str, channel_id: str, ts: str) -> list[Any]:
    """The reflection stored from this Slack message, if `user_id` wrote it. A DM reply is only
    ever captured from its author's own DM with the app, so its channel is that DM."""
    return [
        Reflection.team_id == team_id,
        Reflection.user_id == user_id,
        Reflection.channel_id == channel_id,
        Reflection.message_ts == ts,
    ]
