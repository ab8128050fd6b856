"""paused_until becomes the last paused day (inclusive)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

Before, `paused_until` was sometimes the first day a nudge could come again (`pause until`)
and sometimes the day a pause of N × 168 hours ended, whatever the next nudge said. From here
on it is the last local day with no nudge. For pauses in effect now, it becomes at most the
day before the next nudge, in the member's zone, so the two always agree. Downgrade leaves the
dates as they are: the old code reads them a day early, for display only.
"""

import os
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

schedules = sa.table(
    "schedules",
    sa.column("id", sa.Integer),
    sa.column("team_id", sa.String),
    sa.column("user_id", sa.String),
    sa.column("status", sa.String),
    sa.column("paused_until", sa.Date),
    sa.column("next_due_at", sa.DateTime(timezone=True)),
)
members = sa.table(
    "members",
    sa.column("team_id", sa.String),
    sa.column("user_id", sa.String),
    sa.column("tz", sa.String),
)


def _zone(name: str | None) -> ZoneInfo:
    """The member's zone, else DEFAULT_TZ as the app would read it, else Auckland."""
    known = available_timezones()
    default = os.environ.get("DEFAULT_TZ") or "Pacific/Auckland"
    return ZoneInfo(name if name in known else default if default in known else "Pacific/Auckland")


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(schedules.c.id, schedules.c.paused_until, schedules.c.next_due_at, members.c.tz)
        .select_from(
            schedules.outerjoin(
                members,
                sa.and_(
                    members.c.team_id == schedules.c.team_id,
                    members.c.user_id == schedules.c.user_id,
                ),
            )
        )
        .where(
            schedules.c.status == "active",
            schedules.c.paused_until.is_not(None),
            schedules.c.next_due_at.is_not(None),
        )
    ).all()
    for row in rows:
        due = row.next_due_at if row.next_due_at.tzinfo else row.next_due_at.replace(tzinfo=UTC)
        last_paused = due.astimezone(_zone(row.tz)).date() - timedelta(days=1)
        if row.paused_until > last_paused:
            bind.execute(
                sa.update(schedules)
                .where(schedules.c.id == row.id)
                .values(paused_until=last_paused)
            )


def downgrade() -> None:
    pass
