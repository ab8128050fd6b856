"""Alembic is the only way the schema is made: migrations must match the models exactly."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.db import sync_url
from bot.migrate import alembic_config, upgrade
from bot.models import Base


def schema_differences(database_url: str) -> list[object]:
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def test_migrated_database_matches_the_models(database_url: str) -> None:
    assert schema_differences(database_url) == []


def test_fresh_sqlite_database_is_made_by_upgrade_and_unmade_by_downgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = create_engine(sync_url(url))
    tables = set(inspect(engine).get_table_names())
    assert {
        "workspaces",
        "members",
        "seen_items",
        "schedules",
        "deliveries",
        "reflections",
    } <= tables
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(url)
    assert schema_differences(url) == []
    engine.dispose()
