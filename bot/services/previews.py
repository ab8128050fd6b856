"""`/leading-tip preview`: one of every message the app sends, to the asker's own DM.

For workspace admins and owners, ADMIN_USER_IDS and the leads of a live cohort, so a lead can
check the words before a cohort starts. Nothing is recorded: no delivery, no seen item, no
rotation step. Each preview carries its own message metadata, never a delivery id, and a reply
in a preview's thread is recognised by it (`is_preview_thread`) and never kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import time
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.clock import Clock
from bot.db import Sessions
from bot.models import Cohort, CohortLead, Delivery
from bot.services.profiles import is_workspace_admin, stored_zone, zone_or_default
from bot.services.timing import next_send_after
from bot.values import PreviewSample, ScheduleView

logger = logging.getLogger(__name__)

PREVIEW_EVENT = "leading_health_preview"
PREVIEW_METADATA = {"event_type": PREVIEW_EVENT, "event_payload": {"preview": True}}
DEFAULT_SLOT = (0, 9 * 60)  # Monday at 9:00 am, the weekly nudge's own default


class PreviewNotAllowed(Exception):
    """Only workspace admins and owners, ADMIN_USER_IDS and cohort leads may preview."""


class Previews:
    def __init__(
        self,
        sessions: Sessions,
        clock: Clock,
        default_tz: str,
        admin_ids: frozenset[str],
        draw: Callable[[PreviewSample], list[dict[str, Any]]],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._default_tz = default_tz
        self._admin_ids = admin_ids
        self._draw = draw

    async def send(
        self, team_id: str, user_id: str, channel_id: str, client: AsyncWebClient
    ) -> int:
        """Post every preview to the asker's DM; how many. Raises PreviewNotAllowed."""
        if not await self._may_preview(team_id, user_id, client):
            raise PreviewNotAllowed
        messages = self._draw(await self._sample(team_id, user_id, channel_id))
        for message in messages:
            await client.chat_postMessage(channel=user_id, metadata=PREVIEW_METADATA, **message)
        return len(messages)

    async def is_preview_thread(
        self, team_id: str, channel_id: str, thread_ts: str, client: AsyncWebClient
    ) -> bool:
        """Whether a DM thread hangs off a preview. A nudge's thread is known without asking
        Slack; anything else is looked up once. If Slack can't say, it is not a preview, so the
        person's words are kept rather than lost."""
        async with self._sessions() as session:
            nudge = await session.scalar(
                select(Delivery.id).where(
                    Delivery.team_id == team_id,
                    Delivery.channel_id == channel_id,
                    Delivery.message_ts == thread_ts,
                )
            )
        if nudge is not None:
            return False
        try:
            history = await client.conversations_history(
                channel=channel_id,
                latest=thread_ts,
                inclusive=True,
                limit=1,
                include_all_metadata=True,
            )
        except SlackApiError as error:
            logger.warning(
                "could not tell whether a DM thread of %s is a preview's: %s",
                team_id,
                error.response.get("error"),
            )
            return False
        for message in history.get("messages") or []:
            if message.get("ts") == thread_ts:
                return (message.get("metadata") or {}).get("event_type") == PREVIEW_EVENT
        return False

    async def _may_preview(self, team_id: str, user_id: str, client: AsyncWebClient) -> bool:
        if user_id in self._admin_ids:
            return True
        async with self._sessions() as session:
            leads = await session.scalar(
                select(CohortLead.cohort_id)
                .join(Cohort, Cohort.id == CohortLead.cohort_id)
                .where(
                    CohortLead.team_id == team_id,
                    CohortLead.user_id == user_id,
                    Cohort.ended_at.is_(None),
                )
                .limit(1)
            )
        return leads is not None or await is_workspace_admin(client, user_id)

    async def _sample(self, team_id: str, user_id: str, channel_id: str) -> PreviewSample:
        """The channel's live cohort, else one the asker leads, else none; in the asker's zone."""
        async with self._sessions() as session:
            cohort = await session.scalar(
                select(Cohort).where(
                    Cohort.team_id == team_id,
                    Cohort.channel_id == channel_id,
                    Cohort.ended_at.is_(None),
                )
            )
            if cohort is None:
                cohort = await session.scalar(
                    select(Cohort)
                    .join(CohortLead, CohortLead.cohort_id == Cohort.id)
                    .where(
                        CohortLead.team_id == team_id,
                        CohortLead.user_id == user_id,
                        Cohort.ended_at.is_(None),
                    )
                    .order_by(Cohort.channel_id)
                    .limit(1)
                )
            zone_name = await stored_zone(session, team_id, user_id)
        zone = zone_or_default(zone_name, self._default_tz)
        weekday, minutes = (cohort.weekday, cohort.local_minutes) if cohort else DEFAULT_SLOT
        local_time = time(*divmod(minutes, 60))
        view = ScheduleView(
            status="active",
            weekday=weekday,
            local_time=local_time,
            zone=zone.key,
            next_due_at=next_send_after(self._clock(), weekday, local_time, zone),
        )
        return PreviewSample(cohort.channel_id if cohort else None, view)
