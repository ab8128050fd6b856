"""Arranging many subscribers at once, straight into the database (for fan-out tests)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert
from sqlalchemy.dialects import postgresql, sqlite

from bot.db import sync_url
from bot.models import Member, Schedule, Workspace


def seed_due_members(
    database_url: str,
    *,
    count: int,
    due: datetime,
    team_id: str = "T0001",
    tz: str = "Pacific/Auckland",
    user_prefix: str = "UF",
) -> list[str]:
    """`count` members of one workspace, each with a weekly nudge due at `due`."""
    local = due.astimezone(ZoneInfo(tz))
    users = [f"{user_prefix}{i:05d}" for i in range(count)]
    engine = create_engine(sync_url(database_url))
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    with engine.begin() as connection:
        connection.execute(
            dialect.insert(Workspace)
            .values(team_id=team_id, active=True, created_at=due)
            .on_conflict_do_nothing()
        )
        connection.execute(
            insert(Member),
            [
                {
                    "team_id": team_id,
                    "user_id": user,
                    "tz": tz,
                    "tz_checked_at": due - timedelta(weeks=1),  # read at last week's nudge
                    "created_at": due,
                }
                for user in users
            ],
        )
        connection.execute(
            insert(Schedule),
            [
                {
                    "team_id": team_id,
                    "user_id": user,
                    "weekday": local.weekday(),
                    "local_minutes": local.hour * 60 + local.minute,
                    "every_weeks": 1,
                    "status": "active",
                    "next_due_at": due,
                    "unanswered": 0,
                    "backoff_pending": False,
                    "created_at": due,
                    "updated_at": due,
                }
                for user in users
            ],
        )
    engine.dispose()
    return users
