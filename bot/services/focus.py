"""Which capability a person practises: their own choice, else their cohort's, else the first
capability of the content. A choice naming a capability no longer in the content is ignored."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.content import Capability, Library
from bot.db import Sessions
from bot.models import Cohort, Member, Schedule
from bot.services.store import set_member


class UnknownCapability(Exception):
    """The words name no capability of the content, or more than one."""


async def load_focus(
    session: AsyncSession, team_id: str, user_id: str
) -> tuple[str | None, str | None]:
    """(the person's own focus, their live cohort's focus), either None when not set."""
    row = (
        await session.execute(
            select(Member.focus, Cohort.focus)
            .select_from(Member)
            .outerjoin(
                Schedule,
                and_(Schedule.team_id == Member.team_id, Schedule.user_id == Member.user_id),
            )
            .outerjoin(Cohort, and_(Cohort.id == Schedule.cohort_id, Cohort.ended_at.is_(None)))
            .where(Member.team_id == team_id, Member.user_id == user_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else (None, None)


class Focus:
    def __init__(self, sessions: Sessions, library: Library, clock: Clock) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock

    async def current(self, team_id: str, user_id: str) -> Capability:
        async with self._sessions() as session:
            return self._library.focus_of(*await load_focus(session, team_id, user_id))

    async def choose(self, team_id: str, user_id: str, words: str) -> Capability:
        """`focus <words>`: the person's own focus from now on. Raises UnknownCapability."""
        capability = self._library.find_capability(words)
        if capability is None:
            raise UnknownCapability
        await set_member(self._sessions, team_id, user_id, self._clock(), focus=capability.id)
        return capability
