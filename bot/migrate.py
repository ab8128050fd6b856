"""Schema changes go through Alembic only; `leading-bot db upgrade` and start-up call this."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str, encryption_keys: Sequence[str] = ()) -> Config:
    """`encryption_keys`: for the migrations that encrypt (or decrypt) stored rows."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    config.attributes["encryption_keys"] = list(encryption_keys)
    return config


def upgrade(
    database_url: str, revision: str = "head", *, encryption_keys: Sequence[str] = ()
) -> None:
    """Migrate to `revision`. Rows already in the database are encrypted on the way with the
    first of `encryption_keys`; with rows to encrypt and no key, the migration stops."""
    command.upgrade(alembic_config(database_url, encryption_keys), revision)
