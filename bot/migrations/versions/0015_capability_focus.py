"""capability focus: the capability a person, or a cohort, practises

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29

`members.focus` and `cohorts.focus` hold a capability id from the content. Empty: the person
follows their cohort's focus, and a cohort without one follows the content's first capability.
A focus naming a capability that is no longer in the content is read as empty.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("focus", sa.String(length=100), nullable=True))
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("focus", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_column("focus")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("focus")
