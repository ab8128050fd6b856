"""Alembic is the only way the schema is made: migrations must match the models exactly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from bot.db import sync_url
from bot.logs import hold_chatty_loggers
from bot.migrate import Upgraded, alembic_config, upgrade
from bot.models import Base
from tests.conftest import ENCRYPTION_KEY
from tests.helpers import run_cli


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


def test_db_upgrade_says_one_line_of_its_own_and_alembic_says_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    keys = {"ENCRYPTION_KEYS": ENCRYPTION_KEY}  # no key file to announce: that line is tested apart
    first = run_cli("db", "upgrade", DATABASE_URL=url, LOG_LEVEL="INFO", **keys)
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines() == [f"Database set up at revision {head} ({url})."]
    again = run_cli("db", "upgrade", DATABASE_URL=url, LOG_LEVEL="DEBUG", **keys)
    assert again.returncode == 0, again.stderr
    assert again.stderr.splitlines() == [f"Database is up to date at revision {head} ({url})."]


def test_upgrade_names_the_revisions_it_moved_between(database_url: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(database_url))
    head = script.get_current_head()
    assert upgrade(database_url) == Upgraded(before=head, after=head)
    previous = script.get_revision(head).down_revision
    command.downgrade(alembic_config(database_url), "-1")
    upgraded = upgrade(database_url)
    assert upgraded == Upgraded(before=previous, after=head)
    assert upgraded.line("db") == f"Database migrated from revision {previous} to {head} (db)."


def test_alembic_logs_nothing_below_warning_once_our_loggers_are_held(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hold_chatty_loggers()
    with caplog.at_level(logging.DEBUG):
        upgrade(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert [record.getMessage() for record in caplog.records if "alembic" in record.name] == []
