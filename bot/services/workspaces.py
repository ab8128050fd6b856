"""Workspaces: stopping everything when one leaves, and opening it again when it comes back
(tokens: bot.services.installations; uninstall and purge: bot.services.uninstall)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Sessions
from bot.models import Schedule, Workspace

UNINSTALLED = "app_uninstalled"
TOKENS_REVOKED = "tokens_revoked"
# Why a schedule stopped when the app itself went away: after a reinstall it stays stopped
# until its person subscribes again, and Home says so.
REMOVED_REASONS = frozenset({UNINSTALLED, TOKENS_REVOKED})


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


async def active_among(sessions: Sessions, team_ids: Collection[str]) -> set[str]:
    """Which of these workspaces may be sent to now: one query for them all."""
    if not team_ids:
        return set()
    async with sessions() as session:
        rows = await session.scalars(
            select(Workspace.team_id).where(
                Workspace.team_id.in_(sorted(team_ids)), Workspace.active
            )
        )
        return set(rows)


async def reopen_workspaces(
    sessions: Sessions, *, team_id: str | None, enterprise_id: str | None, org_wide: bool
) -> int:
    """Installed again: the workspace (org-wide: every workspace of the org) may be sent to
    again and is no longer waiting to be purged. Schedules stay as they are: one stopped by the
    removal waits for its person to subscribe again. Returns the workspaces reopened."""
    column, key = (
        (Workspace.enterprise_id, enterprise_id) if org_wide else (Workspace.team_id, team_id)
    )
    if not key:  # never `IS NULL`: that would be every workspace outside a Grid org
        return 0
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Workspace)
            .where(column == key, or_(~Workspace.active, Workspace.uninstalled_at.is_not(None)))
            .values(active=True, deactivated_at=None, deactivated_reason=None, uninstalled_at=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
