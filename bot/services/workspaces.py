"""Workspaces: which bot token speaks for a team, and stopping everything when one leaves.

A workspace's own token is stored encrypted with the keyring, never in clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.crypto import Keyring
from bot.db import Sessions
from bot.models import Schedule, Workspace
from bot.services.store import insert_ignoring_duplicates


async def bot_token(
    session: AsyncSession, settings: Settings, keyring: Keyring, team_id: str
) -> str | None:
    """A workspace's own token (multi-workspace installs), else the single-workspace token."""
    stored = await session.scalar(select(Workspace.bot_token).where(Workspace.team_id == team_id))
    return keyring.decrypt(stored) if stored else settings.slack_bot_token


async def store_bot_token(
    sessions: Sessions,
    keyring: Keyring,
    team_id: str,
    token: str,
    now: datetime,
    *,
    bot_user_id: str | None = None,
) -> None:
    """Keep a workspace's own bot token (an install), encrypted."""
    values = {"bot_token": keyring.encrypt(token), "bot_user_id": bot_user_id, "active": True}
    async with sessions() as session, session.begin():
        await insert_ignoring_duplicates(
            session, Workspace, {"team_id": team_id, "created_at": now, **values}
        )
        await session.execute(update(Workspace).where(Workspace.team_id == team_id).values(values))


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
