"""What every surface needs, built once per process: settings, database, content, clock, Slack."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import blocks
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.content import Library, load_library
from bot.crypto import Keyring, keyring_for
from bot.db import Sessions, create_engine, session_factory
from bot.foreground import Foreground
from bot.inflight import InFlight
from bot.logs import hold_chatty_loggers
from bot.services.cohort_practice import CohortPractice
from bot.services.cohorts import CohortMessages, Cohorts
from bot.services.dispatch import Dispatcher, NudgeMessages
from bot.services.export import Export
from bot.services.focus import Focus
from bot.services.home import HomeTab
from bot.services.insights import Insights
from bot.services.installations import Installations
from bot.services.look_back import LookBack
from bot.services.previews import Previews
from bot.services.profiles import zone_or_default
from bot.services.reflections import Entry, Reflections
from bot.services.regions import HolidayRegions
from bot.services.rotation import Rotation
from bot.services.season_summary import SeasonSummaries
from bot.services.subscriptions import Subscriptions
from bot.slack_client import SlackClients
from bot.values import Home, PreviewSample

logger = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    library: Library
    clock: Clock
    slack: SlackClients
    keyring: Keyring
    installations: Installations
    rotation: Rotation
    subscriptions: Subscriptions
    reflections: Reflections
    insights: Insights
    cohorts: Cohorts
    focus: Focus
    regions: HolidayRegions
    previews: Previews
    cohort_practice: CohortPractice
    season_summaries: SeasonSummaries
    home: HomeTab
    export: Export
    dispatcher: Dispatcher
    in_flight: InFlight
    foreground: Foreground  # requests being answered: the fan-out gives way to them

    async def client_for(
        self, team_id: str, enterprise_id: str | None = None
    ) -> AsyncWebClient | None:
        """A Web API client speaking for that workspace (an Enterprise Grid workspace: give
        the org the request named, so an org-wide install is found), or None if we have no
        token for it.

        Never raises: when the database fails, the SLACK_BOT_TOKEN setting (or the token this
        process last used for that workspace) still lets us tell the person that something of
        theirs was not saved."""
        try:
            token = await self.installations.token_for(team_id, enterprise_id)
        except SQLAlchemyError as error:
            logger.warning(
                "looking up the bot token for %s failed (%s); using the last one known",
                team_id,
                type(error).__name__,
            )
            token = self.installations.last_token(team_id)
        return self.slack.for_token(token) if token else None

    def zone(self, name: str | None) -> ZoneInfo:
        """A stored zone name, or the workspace default when there is none."""
        return zone_or_default(name, self.settings.default_tz)

    async def close(self) -> None:
        await self.in_flight.wait_idle()  # let work that Slack already has an ack for finish
        await self.slack.close()
        await self.engine.dispose()


def build_context(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    library: Library | None = None,
    rng: random.Random | None = None,
    keyring: Keyring | None = None,
) -> AppContext:
    """`rng` draws every item people are shown; the demo passes a seeded one to repeat itself.
    The content is CONTENT_DIR's, or the shipped pack (ContentError when it is not valid).
    Raises ConfigError when there is no encryption key to be had (see bot.crypto)."""
    hold_chatty_loggers()
    keyring = keyring or keyring_for(settings)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    library = library or load_library(settings.content_dir)
    slack = SlackClients(settings)
    installations = Installations(sessions, engine, settings, keyring, clock, slack)
    subscriptions = Subscriptions(
        sessions, clock, settings.default_tz, default_region=settings.default_holiday_region
    )
    reflections = Reflections(sessions, clock, keyring)
    insights = Insights(sessions, library, clock)
    cohorts = Cohorts(
        sessions,
        clock,
        settings.default_tz,
        settings.admin_ids,
        insights,
        CohortMessages(
            intro=lambda intro: blocks.cohort_intro(library, intro).as_kwargs(),
            ended=lambda channel_id: blocks.cohort_ended_dm(channel_id).as_kwargs(),
        ),
        default_region=settings.default_holiday_region,
    )
    foreground = Foreground()
    focus = Focus(sessions, library, clock)

    def draw_home(home: Home) -> dict[str, Any]:
        return blocks.home_view(
            library,
            home.view,
            home.progress,
            list(home.latest),
            home.zone,
            home.today,
            home.cohorts,
            home.focus,
            look_back=home.look_back,
            default_region=settings.default_holiday_region,
        )

    def draw_previews(sample: PreviewSample) -> list[dict[str, Any]]:
        return [message.as_kwargs() for message in blocks.previews(library, sample)]

    def write_export(entries: list[Entry], zone: ZoneInfo, now: datetime) -> str:
        return blocks.export_markdown(library, entries, zone, now)

    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        library=library,
        clock=clock,
        slack=slack,
        keyring=keyring,
        installations=installations,
        rotation=Rotation(sessions, library, clock, rng),
        subscriptions=subscriptions,
        reflections=reflections,
        insights=insights,
        cohorts=cohorts,
        focus=focus,
        regions=HolidayRegions(sessions, clock, settings.default_holiday_region),
        cohort_practice=CohortPractice(
            sessions,
            library,
            clock,
            settings.default_tz,
            cohorts,
            lambda item: blocks.cohort_practice_post(library, item).as_kwargs(),
        ),
        season_summaries=SeasonSummaries(
            sessions,
            clock,
            keyring,
            lambda words: blocks.season_summary(library, words).as_kwargs(),
        ),
        previews=Previews(sessions, clock, settings.default_tz, settings.admin_ids, draw_previews),
        home=HomeTab(
            subscriptions,
            insights,
            reflections,
            clock,
            settings.default_tz,
            draw_home,
            cohorts,
            focus,
            look_back=LookBack(sessions, clock),
        ),
        export=Export(reflections, clock, settings.default_tz, write_export),
        dispatcher=Dispatcher(
            sessions,
            library,
            clock,
            settings,
            slack,
            installations,
            messages=NudgeMessages(nudge=blocks.nudge, backoff_question=blocks.backoff_question),
            keyring=keyring,
            rng=rng,
            foreground=foreground,
        ),
        in_flight=InFlight(),
        foreground=foreground,
    )
