"""cohorts: a channel practising together, its leads, and schedules linked to it

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

`cohorts` holds one row per channel made a cohort (`ended_at` once ended); `cohort_leads` who
may change it and see its figures. `schedules.cohort_id` links a person's weekly nudge to the
cohort whose channel they are in, and `schedules.from_cohort` says the cohort set its day and
time (the person has not chosen their own since).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("local_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["workspaces.team_id"],
            name=op.f("fk_cohorts_team_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohorts")),
        sa.UniqueConstraint("team_id", "channel_id", name=op.f("uq_cohorts_team_id_channel_id")),
    )
    op.create_table(
        "cohort_leads",
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_cohort_leads_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_cohort_leads")),
    )
    op.create_index(op.f("ix_cohort_leads_team_id_user_id"), "cohort_leads", ["team_id", "user_id"])
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cohort_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("from_cohort", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_schedules_cohort_id_cohorts"),
            "cohorts",
            ["cohort_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_schedules_cohort_id"), ["cohort_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedules_cohort_id"))
        batch_op.drop_constraint(batch_op.f("fk_schedules_cohort_id_cohorts"), type_="foreignkey")
        batch_op.drop_column("from_cohort")
        batch_op.drop_column("cohort_id")
    op.drop_index(op.f("ix_cohort_leads_team_id_user_id"), table_name="cohort_leads")
    op.drop_table("cohort_leads")
    op.drop_table("cohorts")
