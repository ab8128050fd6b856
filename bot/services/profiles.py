"""A person's time zone from their Slack profile, and what a change of zone does to their nudge.

The dispatcher reads the zone before every nudge; replies and the Home read it about weekly.
Whoever reads it stores it through `save_zone`, the one place a member's zone is written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Delivery, Member, Schedule
from bot.services.timing import MAX_LATE, MIN_GAP, retimed_for_zone

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


@dataclass(frozen=True)
class SlackPerson:
    """What one users.info answer says about someone, for enrolling them in a cohort."""

    tz: str | None  # a valid IANA zone, or None
    can_join: bool  # a person with a full account: not a bot, deactivated or a guest


def _valid_zone(tz: Any) -> str | None:
    if not isinstance(tz, str) or not tz:
        return None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return tz


async def read_person(client: AsyncWebClient, team_id: str, user_id: str) -> SlackPerson | None:
    """Ask Slack about someone; None when it could not be asked (they are left as they are)."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as error:
        logger.warning(
            "users.info failed for %s/%s: %s", team_id, user_id, error.response.get("error")
        )
        return None
    user = response.get("user") or {}
    left_out = ("is_bot", "is_app_user", "deleted", "is_restricted", "is_ultra_restricted")
    return SlackPerson(
        tz=_valid_zone(user.get("tz")),
        can_join=not any(user.get(flag) for flag in left_out) and user_id != "USLACKBOT",
    )


@dataclass(frozen=True)
class ProfileRead:
    """One users.info answer, as the read before a nudge uses it: the zone, and the status
    (held only in memory, to tell whether it means leave; never stored or logged)."""

    known: bool  # Slack answered
    tz: str | None = None
    status_emoji: str = ""
    status_text: str = ""
    status_expires: datetime | None = None  # None: the status does not expire


async def read_zone(client: AsyncWebClient, team_id: str, user_id: str) -> tuple[bool, str | None]:
    """Ask Slack: (True, the profile's IANA zone or None) when it answered, (False, None) when
    it could not be asked (an error, or a dropped connection): keep what we have then."""
    read = await read_profile(client, team_id, user_id)
    return read.known, read.tz


async def read_profile(client: AsyncWebClient, team_id: str, user_id: str) -> ProfileRead:
    """Ask Slack for someone's zone and status; `known` is False when it could not be asked."""
    try:
        response = await client.users_info(user=user_id)
    except SlackApiError as error:
        logger.warning(
            "users.info failed for %s/%s: %s", team_id, user_id, error.response.get("error")
        )
        return ProfileRead(False)
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        logger.warning("users.info failed for %s/%s: %s", team_id, user_id, type(error).__name__)
        return ProfileRead(False)
    user = response.get("user") or {}
    profile = user.get("profile") or {}
    expiration = profile.get("status_expiration")
    return ProfileRead(
        True,
        _valid_zone(user.get("tz")),
        str(profile.get("status_emoji") or ""),
        str(profile.get("status_text") or ""),
        instant(expiration),
    )


def instant(seconds: Any) -> datetime | None:
    """A Unix time from Slack as an instant; 0, missing or nonsense: None."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


async def zone_is_fresh(session: AsyncSession, team_id: str, user_id: str, now: datetime) -> bool:
    """Whether the stored zone was read from Slack within the week (no need to ask again)."""
    checked = await session.scalar(
        select(Member.tz_checked_at).where(Member.team_id == team_id, Member.user_id == user_id)
    )
    return checked is not None and now - checked < REFRESH_AFTER


async def save_zone(
    session: AsyncSession,
    team_id: str,
    user_id: str,
    tz: str | None,
    now: datetime,
    default_tz: str,
) -> None:
    """Store the zone Slack gave; when it differs from the stored one, re-time the next nudge.

    Every path that learns a member's zone comes through here, so the rule holds for all of
    them: the coming nudge moves once, to the same weekday and local time in the new zone,
    never earlier than 12 hours after the previous nudge (see `retimed_for_zone`).
    """
    schedule = await session.scalar(
        select(Schedule)
        .where(Schedule.team_id == team_id, Schedule.user_id == user_id)
        .with_for_update()
    )
    old = await session.scalar(
        select(Member.tz).where(Member.team_id == team_id, Member.user_id == user_id)
    )
    await session.execute(
        update(Member)
        .where(Member.team_id == team_id, Member.user_id == user_id)
        .values(tz=tz, tz_checked_at=now)
    )
    old_zone, new_zone = zone_or_default(old, default_tz), zone_or_default(tz, default_tz)
    if old_zone.key == new_zone.key or schedule is None:
        return
    if schedule.status != "active" or schedule.next_due_at is None:
        return
    local = time(schedule.local_minutes // 60, schedule.local_minutes % 60)
    schedule.next_due_at = retimed_for_zone(
        schedule.next_due_at,
        schedule.weekday,
        local,
        old_zone,
        new_zone,
        await earliest_next_nudge(session, schedule.id, now),
    )
    schedule.updated_at = now


async def earliest_next_nudge(session: AsyncSession, schedule_id: int, now: datetime) -> datetime:
    """Now, or 12 hours after the latest nudge this schedule sent or may still send, if later.

    A nudge Slack accepted counts from when it went; one claimed or waiting to retry may go out
    until it is MAX_LATE late, so it counts from then. Failed and missed ones never arrived.
    """
    rows = await session.execute(
        select(Delivery.status, Delivery.due_at, Delivery.sent_at).where(
            Delivery.schedule_id == schedule_id,
            Delivery.status.not_in(("failed", "missed")),
            Delivery.due_at > now - MAX_LATE - MIN_GAP - timedelta(days=1),
        )
    )
    latest = [
        (row.sent_at or row.due_at) if row.status == "sent" else row.due_at + MAX_LATE
        for row in rows
    ]
    return max([now, *(instant + MIN_GAP for instant in latest)])


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
