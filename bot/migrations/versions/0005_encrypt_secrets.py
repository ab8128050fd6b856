"""encrypt reflection text and workspace bot tokens already stored

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

From here on the app writes both encrypted (Fernet, first key of ENCRYPTION_KEYS). This
migration encrypts the rows written before, with the keys `bot.migrate.upgrade` passes in the
Alembic config; downgrade decrypts them again. It uses `cryptography` directly, not the app's
code, so it keeps doing what it did when it was written.
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, MultiFernet

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 500

reflections = sa.table("reflections", sa.column("id", sa.Integer), sa.column("text", sa.Text))
workspaces = sa.table(
    "workspaces", sa.column("team_id", sa.String), sa.column("bot_token", sa.Text)
)


def upgrade() -> None:
    cipher = _cipher_for("encrypting")  # before any change: no key, nothing touched
    # A Fernet token of a long Slack token does not fit in 255 characters.
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.alter_column(
            "bot_token", existing_type=sa.String(length=255), type_=sa.Text(), nullable=True
        )
    if cipher is not None:
        _convert(lambda text: cipher.encrypt(text.encode()).decode("ascii"))


def downgrade() -> None:
    cipher = _cipher_for("decrypting")
    if cipher is not None:
        _convert(lambda text: cipher.decrypt(text.encode("ascii")).decode())
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.alter_column(
            "bot_token", existing_type=sa.Text(), type_=sa.String(length=255), nullable=True
        )


COLUMNS = (
    (reflections, reflections.c.id, reflections.c.text),
    (workspaces, workspaces.c.team_id, workspaces.c.bot_token),
)


def _cipher_for(doing: str) -> MultiFernet | None:
    """The keys passed in the Alembic config; None when there is nothing stored to change."""
    bind = op.get_bind()
    counts = [
        bind.scalar(sa.select(sa.func.count()).select_from(table).where(value.is_not(None)))
        for table, _key, value in COLUMNS
    ]
    if not any(counts):
        return None
    config = op.get_context().config
    keys = list(config.attributes.get("encryption_keys") or []) if config else []
    if not keys:
        raise RuntimeError(
            f"ENCRYPTION_KEYS: {counts[0]} reflections and {counts[1]} workspace tokens need "
            f"{doing} and no key was given. Set ENCRYPTION_KEYS and run `leading-bot db upgrade` "
            "(with SQLite it uses the key file beside the database)."
        )
    return MultiFernet([Fernet(key) for key in keys])


def _convert(change: Callable[[str], str]) -> None:
    bind = op.get_bind()
    for table, key, value in COLUMNS:
        last = None
        while True:
            query = sa.select(key, value).where(value.is_not(None)).order_by(key).limit(BATCH)
            if last is not None:
                query = query.where(key > last)
            rows = bind.execute(query).all()
            if not rows:
                break
            bind.execute(
                table.update()
                .where(key == sa.bindparam("row_key"))
                .values({value.name: sa.bindparam("new_value")}),
                [{"row_key": row[0], "new_value": change(row[1])} for row in rows],
            )
            last = rows[-1][0]
