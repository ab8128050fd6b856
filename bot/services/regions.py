"""Whose public holidays a person's nudge keeps to: the region they chose in Home, else the
workspace default (DEFAULT_HOLIDAY_REGION)."""

from __future__ import annotations

from sqlalchemy import update

from bot.calendar import region_choices
from bot.clock import Clock
from bot.db import Sessions
from bot.models import Member
from bot.services.store import ensure_member


class UnknownRegion(Exception):
    """Not one of the regions Home offers: a forged or stale menu."""


class HolidayRegions:
    def __init__(self, sessions: Sessions, clock: Clock, default_region: str) -> None:
        self._sessions = sessions
        self._clock = clock
        self._default_region = default_region

    async def choose(self, team_id: str, user_id: str, region: str) -> None:
        """The person's own region from now on. Raises UnknownRegion for one Home never offers.
        The next nudge is not re-timed: a holiday moves it only when it falls due."""
        if region not in region_choices(self._default_region):
            raise UnknownRegion
        now = self._clock()
        async with self._sessions() as session, session.begin():
            await ensure_member(session, team_id, user_id, now)
            await session.execute(
                update(Member)
                .where(Member.team_id == team_id, Member.user_id == user_id)
                .values(holiday_region=region)
            )
