"""The App Home tab: what it shows a person, when it is published, and the first-open welcome.

The renderer is passed in where the app is wired (`draw`), so this service never imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.services.cohorts import Cohorts
from bot.services.focus import Focus
from bot.services.insights import Insights
from bot.services.look_back import LookBack
from bot.services.profiles import zone_or_default
from bot.services.reflections import Reflections
from bot.services.subscriptions import Subscriptions
from bot.values import Forgotten, Home, HomeCohorts, HomeOpened

logger = logging.getLogger(__name__)
LATEST_ON_HOME = 3

Draw = Callable[[Home], dict[str, Any]]


class HomeTab:
    def __init__(
        self,
        subscriptions: Subscriptions,
        insights: Insights,
        reflections: Reflections,
        clock: Clock,
        default_tz: str,
        draw: Draw,
        cohorts: Cohorts | None = None,
        focus: Focus | None = None,
        *,
        look_back: LookBack,
    ) -> None:
        self._focus = focus
        self._subscriptions = subscriptions
        self._cohorts = cohorts
        self._insights = insights
        self._reflections = reflections
        self._clock = clock
        self._default_tz = default_tz
        self._draw = draw
        self._look_back = look_back

    async def model(self, team_id: str, user_id: str) -> Home:
        """The person's schedule, progress, latest reflections and look-back switch, as of today
        where they are."""
        view = await self._subscriptions.view(team_id, user_id)
        zone = zone_or_default(view.zone, self._default_tz)
        focus = None
        if self._focus is not None:
            focus = (await self._focus.current(team_id, user_id)).id
        progress = await self._insights.progress(team_id, user_id, zone, focus)
        latest, _ = await self._reflections.page(team_id, user_id, limit=LATEST_ON_HOME)
        today = self._clock().astimezone(zone).date()
        cohorts = HomeCohorts()
        if self._cohorts is not None:
            # The same zone as `stats` in the channel, so both show the same weeks.
            figures_zone = zone_or_default(None, self._default_tz)
            cohorts = await self._cohorts.for_home(team_id, user_id, figures_zone)
        look_back = await self._look_back.wanted(team_id, user_id)
        return Home(view, progress, tuple(latest), zone, today, cohorts, focus, look_back)

    async def switch_look_back(
        self, team_id: str, user_id: str, on: bool, client: AsyncWebClient | None
    ) -> None:
        """The "Show me my earlier reflections" switch, then Home shows it as it is now."""
        await self._look_back.switch(team_id, user_id, on)
        await self.refresh(team_id, user_id, client, always=True)

    async def publish(
        self, team_id: str, user_id: str, client: AsyncWebClient | None
    ) -> bool | None:
        """Publish the Home view; whether the person is subscribed, or None if Slack refused it."""
        if client is None:
            return False
        home = await self.model(team_id, user_id)
        try:
            await client.views_publish(user_id=user_id, view=self._draw(home))
        except SlackApiError as error:  # e.g. user_not_found: no one to show it to
            reason = error.response.get("error")
            logger.warning("could not publish Home for %s/%s: %s", team_id, user_id, reason)
            return None
        return home.view.subscribed

    async def refresh(
        self,
        team_id: str,
        user_id: str,
        client: AsyncWebClient | None,
        *,
        always: bool = False,
    ) -> None:
        """Keep Home true after a change; only for people who have opened it, unless `always`."""
        try:
            if always or await self._insights.has_opened_home(team_id, user_id):
                await self.publish(team_id, user_id, client)
        except Exception:
            logger.exception("refreshing Home failed for %s/%s", team_id, user_id)

    async def opened(
        self, team_id: str, user_id: str, client: AsyncWebClient | None
    ) -> HomeOpened | None:
        """Show Home; None when Slack refused it. `welcome` is true once per person, marked
        only after Home was shown: if publishing failed, the next open tries again."""
        subscribed = await self.publish(team_id, user_id, client)
        if subscribed is None:
            return None
        welcome = await self._insights.first_home_open(team_id, user_id)
        return HomeOpened(subscribed=subscribed, welcome=welcome)

    async def forget(self, team_id: str, user_id: str) -> Forgotten:
        """Delete everything about the person. The emptied Home is shown again only to someone
        who had opened it (`show_home`), without remembering that they did."""
        had_home = False
        try:
            had_home = await self._insights.has_opened_home(team_id, user_id)
            report = await self._reflections.forget(team_id, user_id)
        except Exception:
            logger.exception("forget failed for %s/%s", team_id, user_id)
            return Forgotten(report=None, show_home=had_home)
        return Forgotten(report=report, show_home=had_home)
