"""Which item a person sees next: no repeats of a kind until they have seen all of that kind."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import ITEM_KINDS, Item, Library, Question
from bot.db import Sessions
from bot.models import Member, SeenItem
from bot.services.focus import load_focus
from bot.services.store import ensure_member

REFLECT = "reflect"
KINDS = (*ITEM_KINDS, REFLECT)


@dataclass(frozen=True)
class Seen:
    kind: str
    item_id: str
    cycle: int


@dataclass(frozen=True)
class Pick:
    kind: str
    item: Item | Question
    cycle: int


def choose(
    library: Library,
    seen: Iterable[Seen],
    kind: str | None,
    rng: random.Random,
    capability: str | None = None,
) -> Pick:
    """The next item from what a person has seen. `kind=None` (asked for on demand) takes the
    kind they have seen least; weekly nudges take their kind from `nudge_kind`.

    With `capability`, only its items, and each capability keeps its own cycles: what was seen
    of another capability neither counts nor ends a round."""
    if capability is None:
        seen = list(seen)
    else:
        seen = [row for row in seen if library.capability_of(row.item_id) in (None, capability)]
    if kind is None:
        shown = Counter(row.kind for row in seen)
        kind = min(ITEM_KINDS, key=lambda k: (shown[k], ITEM_KINDS.index(k)))
    entries = library.questions(capability) if kind == REFLECT else library.items(kind, capability)
    pool: dict[str, Item | Question] = {entry.id: entry for entry in entries}
    cycle = max((row.cycle for row in seen if row.kind == kind), default=1)
    this_round = {row.item_id for row in seen if row.kind == kind and row.cycle == cycle}
    unseen = [item_id for item_id in pool if item_id not in this_round]
    if not unseen:
        cycle += 1
        unseen = list(pool)
    return Pick(kind=kind, item=pool[rng.choice(unseen)], cycle=cycle)


def nudge_kind(last_nudged: Mapping[str, datetime], seen: Iterable[Seen]) -> str:
    """The kind for a person's next weekly nudge: kinds take turns within the nudges themselves.

    `last_nudged` is when each kind was last the item of a nudge. The kind nudged longest ago
    (or never) goes next, so each kind comes round at least once in every len(ITEM_KINDS)
    nudges, however many items the person asked for themselves. Only between kinds never nudged
    does what they have seen on demand decide, fewest first."""
    shown = Counter(row.kind for row in seen)

    def turn(kind: str) -> tuple[bool, float, int, int]:
        last = last_nudged.get(kind)
        when = last.timestamp() if last is not None else 0.0
        return (last is not None, when, shown[kind], ITEM_KINDS.index(kind))

    return min(ITEM_KINDS, key=turn)


def seen_row(team_id: str, user_id: str, pick: Pick, now: datetime) -> SeenItem:
    return SeenItem(
        team_id=team_id,
        user_id=user_id,
        kind=pick.kind,
        item_id=pick.item.id,
        cycle=pick.cycle,
        seen_at=now,
    )


async def load_seen(session: AsyncSession, team_id: str, user_id: str) -> list[Seen]:
    rows = await session.execute(
        select(SeenItem.kind, SeenItem.item_id, SeenItem.cycle).where(
            SeenItem.team_id == team_id, SeenItem.user_id == user_id
        )
    )
    return [Seen(kind=row.kind, item_id=row.item_id, cycle=row.cycle) for row in rows]


async def load_member_seen(
    session: AsyncSession, team_id: str, user_id: str
) -> tuple[bool, list[Seen]]:
    """Whether the person is stored, and what they have seen: one query (no row: no member)."""
    rows = (
        await session.execute(
            select(SeenItem.kind, SeenItem.item_id, SeenItem.cycle)
            .select_from(Member)
            .outerjoin(
                SeenItem,
                (SeenItem.team_id == Member.team_id) & (SeenItem.user_id == Member.user_id),
            )
            .where(Member.team_id == team_id, Member.user_id == user_id)
        )
    ).all()
    seen = [Seen(row.kind, row.item_id, row.cycle) for row in rows if row.kind is not None]
    return bool(rows), seen


class Rotation:
    def __init__(
        self, sessions: Sessions, library: Library, clock: Clock, rng: random.Random | None = None
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock
        self._rng = rng or random.Random()

    async def next_item(self, team_id: str, user_id: str, kind: str | None = None) -> Pick:
        """Pick and record the next item; `kind=None` takes turns fairly across content kinds."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        for _attempt in range(5):
            try:
                return await self._pick_once(team_id, user_id, kind)
            except IntegrityError:
                continue  # a simultaneous request took the same item; look again
        raise RuntimeError("could not record the next item after 5 attempts")

    async def _pick_once(self, team_id: str, user_id: str, kind: str | None) -> Pick:
        """Read, then write in a transaction of its own: on SQLite writers take turns, and the
        shorter each turn, the sooner the next person's answer. Two picks of the same item at
        once meet the unique constraint (IntegrityError), and `next_item` looks again."""
        now = self._clock()
        async with self._sessions() as session:
            member, seen = await load_member_seen(session, team_id, user_id)
            # With one capability it is everyone's focus: no second read.
            chosen: tuple[str | None, str | None] = (None, None)
            if member and len(self._library.capabilities) > 1:
                chosen = await load_focus(session, team_id, user_id)
        focus = self._library.focus_of(*chosen)
        pick = choose(self._library, seen, kind, self._rng, focus.id)
        async with self._sessions() as session, session.begin():
            if not member:
                await ensure_member(session, team_id, user_id, now)
            session.add(seen_row(team_id, user_id, pick, now))
        return pick
