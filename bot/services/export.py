"""Export: every reflection a person wrote, as a Markdown file sent to their DM with the app.

The Markdown writer is passed in where the app is wired (`write`), so this service never
imports the renderer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.services.profiles import zone_or_default
from bot.services.reflections import Entry, Reflections
from bot.values import ExportOutcome

Write = Callable[[list[Entry], ZoneInfo, datetime], str]


class Export:
    def __init__(self, reflections: Reflections, clock: Clock, default_tz: str, write: Write):
        self._reflections = reflections
        self._clock = clock
        self._default_tz = default_tz
        self._write = write

    async def send(
        self, team_id: str, user_id: str, client: AsyncWebClient | None
    ) -> ExportOutcome:
        """Build the file, open the DM and upload it there."""
        entries = await self._reflections.everything(team_id, user_id)
        if not entries:
            return ExportOutcome.EMPTY
        if client is None:
            return ExportOutcome.NO_CLIENT
        now = self._clock()
        zone_name = await self._reflections.zone_name(team_id, user_id)
        zone = zone_or_default(zone_name, self._default_tz)
        content = self._write(entries, zone, now)
        opened = await client.conversations_open(users=user_id)
        await client.files_upload_v2(
            channel=opened["channel"]["id"],
            content=content,
            filename=f"leading-health-reflections-{now.astimezone(zone):%Y-%m-%d}.md",
            title="My reflections: Leading Health nudges",
            initial_comment="Here are your reflections, as you asked.",
        )
        return ExportOutcome.SENT
