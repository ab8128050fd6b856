"""Look back: earlier reflections shown again in a later nudge, and replies linked to them

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29

- members.look_back: the person's "Show me my earlier reflections" switch, on by default;
- deliveries.resurfaced_reflection_id: the earlier reflection a nudge shows (its id only, never
  its words), so each is shown once and at most one nudge in three carries one;
- reflections.looks_back_at: the earlier reflection a reply to such a nudge looks back at.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("look_back", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resurfaced_reflection_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_deliveries_resurfaced_reflection_id"),
            ["resurfaced_reflection_id"],
            unique=False,
        )
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("looks_back_at", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_reflections_looks_back_at_reflections"),
            "reflections",
            ["looks_back_at"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("reflections", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reflections_looks_back_at_reflections"), type_="foreignkey"
        )
        batch_op.drop_column("looks_back_at")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_resurfaced_reflection_id"))
        batch_op.drop_column("resurfaced_reflection_id")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("look_back")
