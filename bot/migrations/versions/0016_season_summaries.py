"""season summaries: one private DM per person every 12 weeks, claimed once

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29

`season_summaries` holds one row per person and season, inserted before the DM is sent: its
unique key lets only one scheduler send it. No words are stored, only that it was sent.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "season_summaries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("season", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id", "user_id"],
            ["members.team_id", "members.user_id"],
            name=op.f("fk_season_summaries_team_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_season_summaries")),
        sa.UniqueConstraint(
            "team_id", "user_id", "season", name=op.f("uq_season_summaries_team_id_user_id_season")
        ),
    )


def downgrade() -> None:
    op.drop_table("season_summaries")
