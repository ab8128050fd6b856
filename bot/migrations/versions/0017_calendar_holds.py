"""calendar holds: public-holiday regions, leave and Do Not Disturb, and nudges that wait

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29

`members.holiday_region` is the public-holiday region a person chose (empty: the app's
default). `members.on_leave`, `leave_until` and `dnd_until` are what Slack said at the last
read before a nudge (at `status_checked_at`): whether their status showed leave and when it
clears, and when their Do Not Disturb ends. No status text is stored.

`schedules.moved_from`, `moved_why` and `moved_to` explain a nudge that waits: the slot it was
due at, why it moved, and where to (the explanation holds while `next_due_at` equals
`moved_to`). `late_from` is where the 12-hour missed rule counts from while it waits for Do Not
Disturb to end. `welcome_back`: a week was skipped for leave; the next nudge says welcome back,
and `deliveries.welcome_back` carries that to the send.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holiday_region", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("status_checked_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("on_leave", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("leave_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dnd_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("moved_why", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("moved_to", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("late_from", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("welcome_back", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("welcome_back", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("welcome_back")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        for column in ("welcome_back", "late_from", "moved_to", "moved_why", "moved_from"):
            batch_op.drop_column(column)
    with op.batch_alter_table("members", schema=None) as batch_op:
        for column in (
            "dnd_until",
            "leave_until",
            "on_leave",
            "status_checked_at",
            "holiday_region",
        ):
            batch_op.drop_column(column)
