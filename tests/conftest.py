"""One place that builds the fake Slack, the app, and real databases for every test."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.app import create_bolt_app
from bot.app_context import AppContext, build_context
from bot.clock import ManualClock
from bot.config import Settings
from bot.crypto import new_key
from bot.db import sync_url
from bot.migrate import upgrade
from bot.models import Base
from bot.web import create_web_app
from devkit.driver import SlackDriver
from devkit.local_server import serve_locally
from devkit.slack_sim import SlackSimulator
from devkit.slack_sim import oauth as sim_oauth

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-T0001"
PG_ENV = "TEST_DATABASE_URL"
# ENCRYPTION_KEYS for the app in every test, made afresh for each test session.
ENCRYPTION_KEY = new_key()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 20, 0, tzinfo=UTC))


# --- databases -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A schema of our own on the test PostgreSQL, migrated once, dropped at the end."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(sync_url(url))
    with engine.begin() as connection:
        names = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """Every database test runs on a fresh SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_schema_url")
    _truncate_all(url)
    return url


@pytest.fixture
def postgres_url(postgres_schema_url: str) -> str:
    """PostgreSQL only, for what only PostgreSQL can show (row locks across processes)."""
    _truncate_all(postgres_schema_url)
    return postgres_schema_url


# --- Slack and the app -----------------------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as simulator:
        yield simulator


@pytest.fixture
def settings(database_url: str, sim: SlackSimulator) -> Settings:
    return Settings(
        database_url=database_url,
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token=BOT_TOKEN,
        slack_api_url=sim.base_url,
        encryption_keys=ENCRYPTION_KEY,
        # The rules of other tests keep to their own days; tests/test_calendar.py sets a region.
        default_holiday_region="none",
    )


@pytest.fixture
async def ctx(settings: Settings, clock: ManualClock) -> AsyncIterator[AppContext]:
    context = build_context(settings, clock=clock)
    yield context
    await context.close()


@pytest.fixture
def multi_settings(settings: Settings) -> Settings:
    """Multi-workspace mode: OAuth installs, no SLACK_BOT_TOKEN."""
    return settings.model_copy(
        update={
            "slack_bot_token": None,
            "slack_client_id": sim_oauth.CLIENT_ID,
            "slack_client_secret": sim_oauth.CLIENT_SECRET,
        }
    )


@pytest.fixture
async def multi_ctx(multi_settings: Settings, clock: ManualClock) -> AsyncIterator[AppContext]:
    context = build_context(multi_settings, clock=clock)
    yield context
    await context.close()


@dataclass
class RunningApp:
    url: str
    ctx: AppContext
    sim: SlackSimulator
    slack: SlackDriver

    async def settle(self) -> None:
        """Wait for the work the app does after acking (events, buttons, slow words)."""
        assert await self.ctx.in_flight.wait_idle(), "the app is still busy after 10 s"


@asynccontextmanager
async def running(ctx: AppContext, sim: SlackSimulator) -> AsyncIterator[RunningApp]:
    web_app = create_web_app(ctx, create_bolt_app(ctx))
    async with (
        serve_locally(web_app) as url,
        SlackDriver(url, SIGNING_SECRET, sim) as slack,
    ):
        yield RunningApp(url=url, ctx=ctx, sim=sim, slack=slack)


@pytest.fixture
async def app(ctx: AppContext, sim: SlackSimulator) -> AsyncIterator[RunningApp]:
    """The real app under uvicorn on 127.0.0.1, talking to the simulator."""
    async with running(ctx, sim) as started:
        yield started


@pytest.fixture
async def multi_app(multi_ctx: AppContext, sim: SlackSimulator) -> AsyncIterator[RunningApp]:
    """The same, in multi-workspace mode: nothing installed until a test installs it."""
    async with running(multi_ctx, sim) as started:
        yield started


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record from the app, Bolt, asyncio and uvicorn (whose loggers do not propagate)."""
    caplog.set_level(logging.INFO)
    uvicorn_logger = logging.getLogger("uvicorn")
    uvicorn_logger.addHandler(caplog.handler)
    yield caplog
    uvicorn_logger.removeHandler(caplog.handler)
