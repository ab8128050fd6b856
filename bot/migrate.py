"""Schema changes go through Alembic only; `leading-bot db upgrade` and start-up call this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool

from bot.db import sync_url

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass(frozen=True)
class Upgraded:
    before: str | None
    after: str | None

    def line(self, where: str) -> str:
        """The one line start-up prints about the schema."""
        if self.before == self.after:
            return f"Database is up to date at revision {self.after} ({where})."
        if self.before is None:
            return f"Database set up at revision {self.after} ({where})."
        return f"Database migrated from revision {self.before} to {self.after} ({where})."


def alembic_config(database_url: str, encryption_keys: Sequence[str] = ()) -> Config:
    """`encryption_keys`: for the migrations that encrypt (or decrypt) stored rows."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    config.attributes["encryption_keys"] = list(encryption_keys)
    return config


def upgrade(
    database_url: str, revision: str = "head", *, encryption_keys: Sequence[str] = ()
) -> Upgraded:
    """Migrate to `revision`, and say from which revision to which (Alembic's own INFO lines
    are held). Rows already in the database are encrypted on the way with the first of
    `encryption_keys`; with rows to encrypt and no key, the migration stops."""
    before = current_revision(database_url)
    command.upgrade(alembic_config(database_url, encryption_keys), revision)
    return Upgraded(before=before, after=current_revision(database_url))


def current_revision(database_url: str) -> str | None:
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
