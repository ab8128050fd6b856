"""cohort practice: a weekly practice post in a cohort's channel, claimed once per week

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-29

`cohorts.practice_since` says the post is on (and since when), `cohorts.practice_tz` the zone
its day and time are read in. `cohort_practice_posts` holds one row per cohort and week,
inserted before posting: its unique key lets only one scheduler post it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("practice_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("practice_tz", sa.String(length=64), nullable=True))
    op.create_table(
        "cohort_practice_posts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("item_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_cohort_practice_posts_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_practice_posts")),
        sa.UniqueConstraint(
            "cohort_id", "week", name=op.f("uq_cohort_practice_posts_cohort_id_week")
        ),
    )


def downgrade() -> None:
    op.drop_table("cohort_practice_posts")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_column("practice_tz")
        batch_op.drop_column("practice_since")
