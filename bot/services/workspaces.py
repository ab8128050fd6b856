"""Workspaces: stopping everything when one leaves (tokens: bot.services.installations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessions
from bot.models import Schedule, Workspace


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
