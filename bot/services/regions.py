"""Whose public holidays a person's nudge keeps to: the region they chose in Home, else the
workspace default (DEFAULT_HOLIDAY_REGION)."""

from __future__ import annotations

from bot.calendar import region_choices
from bot.clock import Clock
from bot.db import Sessions
from bot.services.store import set_member


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
        await set_member(self._sessions, team_id, user_id, self._clock(), holiday_region=region)
