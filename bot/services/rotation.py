"""Which item a person sees next: no repeats of a kind until they have seen all of that kind."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.content import ITEM_KINDS, Item, Library, Question
from bot.db import Sessions
from bot.models import SeenItem
from bot.services.store import ensure_member

REFLECT = "reflect"
KINDS = (*ITEM_KINDS, REFLECT)


@dataclass(frozen=True)
class Pick:
    kind: str
    item: Item | Question
    cycle: int


class Rotation:
    def __init__(
        self, sessions: Sessions, library: Library, clock: Clock, rng: random.Random | None = None
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock
        self._rng = rng or random.Random()

    def _pool(self, kind: str) -> dict[str, Item | Question]:
        entries = self._library.questions() if kind == REFLECT else self._library.items(kind)
        return {entry.id: entry for entry in entries}

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
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await ensure_member(session, team_id, user_id, now)
            rows = (
                await session.execute(
                    select(SeenItem.kind, SeenItem.item_id, SeenItem.cycle).where(
                        SeenItem.team_id == team_id, SeenItem.user_id == user_id
                    )
                )
            ).all()
            if kind is None:
                shown = Counter(row.kind for row in rows)
                kind = min(ITEM_KINDS, key=lambda k: (shown[k], ITEM_KINDS.index(k)))
            pool = self._pool(kind)
            cycle = max((row.cycle for row in rows if row.kind == kind), default=1)
            seen = {row.item_id for row in rows if row.kind == kind and row.cycle == cycle}
            unseen = [item_id for item_id in pool if item_id not in seen]
            if not unseen:
                cycle += 1
                unseen = list(pool)
            item_id = self._rng.choice(unseen)
            session.add(
                SeenItem(
                    team_id=team_id,
                    user_id=user_id,
                    kind=kind,
                    item_id=item_id,
                    cycle=cycle,
                    seen_at=now,
                )
            )
        return Pick(kind=kind, item=pool[item_id], cycle=cycle)
