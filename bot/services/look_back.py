"""The person's "Show me my earlier reflections" switch: on unless they turn it off in Home."""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import Clock
from bot.db import Sessions
from bot.models import Member
from bot.services.store import set_member


class LookBack:
    def __init__(self, sessions: Sessions, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def wanted(self, team_id: str, user_id: str) -> bool:
        """On by default, for someone we have never stored too."""
        async with self._sessions() as session:
            on = await session.scalar(
                select(Member.look_back).where(Member.team_id == team_id, Member.user_id == user_id)
            )
        return on is None or on

    async def switch(self, team_id: str, user_id: str, on: bool) -> None:
        """Turned off, no nudge shows them an earlier reflection again, even one already
        claimed (bot.services.dispatch.looking_back reads the switch again before a retry)."""
        await set_member(self._sessions, team_id, user_id, self._clock(), look_back=on)
