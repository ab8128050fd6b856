"""Workspaces: which bot token speaks for a team, and stopping everything when one leaves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.db import Sessions
from bot.models import Schedule, Workspace


async def bot_token(session: AsyncSession, settings: Settings, team_id: str) -> str | None:
    """A workspace's own token (multi-workspace installs), else the single-workspace token."""
    stored = await session.scalar(select(Workspace.bot_token).where(Workspace.team_id == team_id))
    return stored or settings.slack_bot_token


async def can_send(sessions: Sessions, settings: Settings) -> bool:
    """Whether there is any way to send: the setting, or an active install with its own token."""
    if settings.slack_bot_token:
        return True
    async with sessions() as session:
        installed = await session.scalar(
            select(Workspace.team_id)
            .where(Workspace.active, Workspace.bot_token.is_not(None))
            .limit(1)
        )
    return installed is not None


async def deactivate_workspace(
    session: AsyncSession, team_id: str, reason: str, now: datetime
) -> int:
    """Uninstalled or token revoked: stop every schedule there. Returns schedules stopped."""
    await session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id)
        .values(active=False, deactivated_at=now, deactivated_reason=reason[:64])
    )
    result = await session.execute(
        update(Schedule)
        .where(Schedule.team_id == team_id, Schedule.status == "active")
        .values(status="stopped", ended_reason=reason[:64], next_due_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def stop_workspace(sessions: Sessions, team_id: str, reason: str, now: datetime) -> int:
    """The app was uninstalled or its token revoked (an event from Slack)."""
    async with sessions() as session, session.begin():
        return await deactivate_workspace(session, team_id, reason, now)
