"""handled_commands: DM command words already answered, so Slack's retries get one answer

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_commands",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "team_id", "channel_id", "message_ts", name=op.f("pk_handled_commands")
        ),
    )
    with op.batch_alter_table("handled_commands", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_handled_commands_handled_at"), ["handled_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("handled_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handled_commands_handled_at"))

    op.drop_table("handled_commands")
