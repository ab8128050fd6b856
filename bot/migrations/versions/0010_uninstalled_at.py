"""workspaces.uninstalled_at: when the app was uninstalled, so its data is purged in time

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29

Set by `app_uninstalled` (multi-workspace mode), cleared by a reinstall; the scheduler's daily
job deletes every row of a workspace uninstalled more than UNINSTALL_PURGE_DAYS ago.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("uninstalled_at")
