"""A person's time zone from their Slack profile, refreshed about weekly."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Member

REFRESH_AFTER = timedelta(days=7)
logger = logging.getLogger(__name__)


def zone_or_default(name: str | None, default: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo(default)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default)


async def stored_zone(session: AsyncSession, team_id: str, user_id: str) -> str | None:
    return await session.scalar(
        select(Member.tz).where(Member.team_id == team_id, Member.user_id == user_id)
    )


async def refresh_zone(
    session: AsyncSession,
    client: AsyncWebClient,
    team_id: str,
    user_id: str,
    now: datetime,
    *,
    force: bool = False,
) -> str | None:
    """The member's IANA zone, asking Slack when we have none or it is a week old."""
    member = (
        await session.execute(
            select(Member.tz, Member.tz_checked_at).where(
                Member.team_id == team_id, Member.user_id == user_id
            )
        )
    ).one_or_none()
    fresh = member is not None and member.tz_checked_at is not None
    if fresh and not force and now - member.tz_checked_at < REFRESH_AFTER:
        return member.tz
    try:
        response = await client.users_info(user=user_id)
        tz = (response.get("user") or {}).get("tz") or None
    except SlackApiError as error:
        logger.warning(
            "users.info failed for %s/%s: %s", team_id, user_id, error.response.get("error")
        )
        return member.tz if member is not None else None
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            tz = None
    await session.execute(
        update(Member)
        .where(Member.team_id == team_id, Member.user_id == user_id)
        .values(tz=tz, tz_checked_at=now)
    )
    return tz


async def may_see_figures(
    client: AsyncWebClient | None, user_id: str, admin_ids: frozenset[str]
) -> bool:
    """Workspace figures: people listed in ADMIN_USER_IDS, and the workspace's admins and owners."""
    if user_id in admin_ids:
        return True
    return client is not None and await is_workspace_admin(client, user_id)


async def is_workspace_admin(client: AsyncWebClient, user_id: str) -> bool:
    """Slack's own answer: admins and owners of the workspace."""
    try:
        user = (await client.users_info(user=user_id)).get("user") or {}
    except SlackApiError:
        return False
    return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
