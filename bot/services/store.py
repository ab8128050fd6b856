"""Small storage steps shared by services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.db import Sessions
from bot.models import Base, Member, Workspace


async def insert_ignoring_duplicates(
    session: AsyncSession,
    model: type[Base],
    values: dict[str, Any],
    returning: InstrumentedAttribute[Any] | None = None,
) -> Any:
    """INSERT … ON CONFLICT DO NOTHING on either database; with `returning`, that column of the
    new row, or None when the row was already there."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(**values).on_conflict_do_nothing()
    if returning is None:
        await session.execute(statement)
        return None
    return await session.scalar(statement.returning(returning))


async def ensure_member(session: AsyncSession, team_id: str, user_id: str, now: datetime) -> None:
    """Make sure the workspace and the person exist, whoever asks first."""
    await insert_ignoring_duplicates(
        session, Workspace, {"team_id": team_id, "active": True, "created_at": now}
    )
    await insert_ignoring_duplicates(
        session, Member, {"team_id": team_id, "user_id": user_id, "created_at": now}
    )


async def set_member(
    sessions: Sessions, team_id: str, user_id: str, now: datetime, **values: object
) -> None:
    """A choice the person made for themselves (a focus, a region, a switch), in its own
    transaction, for someone the app may not have met yet."""
    async with sessions() as session, session.begin():
        await ensure_member(session, team_id, user_id, now)
        await session.execute(
            update(Member)
            .where(Member.team_id == team_id, Member.user_id == user_id)
            .values(**values)
        )
