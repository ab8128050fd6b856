"""`leading-bot content validate` and `dispatch --at` as an operator runs them."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.app_context import build_context
from bot.cli import main
from bot.config import load_settings
from bot.content import default_content_dir
from bot.db import sync_url
from bot.models import Delivery, Schedule
from devkit.slack_sim import DEFAULT_TOKEN
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import ENCRYPTION_KEY
from tests.helpers import install_token, run_cli
from tests.seeding import seed_due_members


def test_content_validate_exits_0_on_the_shipped_pack() -> None:
    result = run_cli("content", "validate")
    assert result.returncode == 0
    assert "Content is valid." in result.stdout


def test_content_validate_exits_1_with_file_and_line_on_a_broken_copy(tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(default_content_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    [pack] = (copy / "packs").glob("*.yaml")
    lines = pack.read_text("utf-8").splitlines()
    broken = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[broken] = 'title: ""'
    pack.write_text("\n".join(lines) + "\n", "utf-8")
    result = run_cli("content", "validate", str(copy))
    assert result.returncode == 1
    assert re.search(rf"{pack.name}:{broken + 1}: title: must not be empty", result.stdout)


def test_dispatch_rejects_a_malformed_instant_in_one_line(tmp_path: Path) -> None:
    result = run_cli("dispatch", "--at", "next tuesday", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "--at: “next tuesday” is not an ISO-8601 instant" in result.stderr
    assert "Traceback" not in result.stderr


def test_dispatch_refuses_an_instant_without_a_zone_before_touching_the_database(
    tmp_path: Path,
) -> None:
    database = tmp_path / "x.db"
    result = run_cli(
        "dispatch", "--at", "2026-12-07T09:00:00", DATABASE_URL=f"sqlite:///{database}"
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "--at: “2026-12-07T09:00:00” has no zone offset; add one, e.g. 2026-12-07T09:00:00+13:00 "
        "(New Zealand summer time) or 2026-12-06T20:00:00Z (UTC)"
    ]
    assert not database.exists()


def test_dispatch_reads_at_before_settings_and_migrations() -> None:
    result = run_cli("dispatch", "--at", "next tuesday", DATABASE_URL="mysql://nowhere")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "--at: “next tuesday” is not an ISO-8601 instant, e.g. 2026-12-07T09:00:00+13:00"
    ]


def test_dispatch_at_with_a_zone_offset_runs_a_pass(tmp_path: Path) -> None:
    database = tmp_path / "x.db"
    result = run_cli(
        "dispatch",
        "--at",
        "2026-12-07T09:00:00+13:00",
        DATABASE_URL=f"sqlite:///{database}",
        SLACK_BOT_TOKEN=DEFAULT_TOKEN,
        ENCRYPTION_KEYS=ENCRYPTION_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sent 0, skipped 0, failed 0"


def test_dispatch_help_says_the_zone_offset_is_required() -> None:
    result = run_cli("dispatch", "--help")
    assert result.returncode == 0
    words = " ".join(result.stdout.split())
    assert "with its zone offset (required), e.g. 2026-12-07T09:00:00+13:00" in words


@pytest.mark.parametrize(
    ("args", "usage", "missing"),
    [
        ((), "usage: leading-bot [-h] COMMAND ...", "COMMAND"),
        (("content",), "usage: leading-bot content [-h] ACTION ...", "ACTION"),
        (("db",), "usage: leading-bot db [-h] ACTION ...", "ACTION"),
    ],
)
def test_a_command_group_without_its_action_names_what_is_missing(
    args: tuple[str, ...], usage: str, missing: str
) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == usage
    assert result.stderr.splitlines()[-1].endswith(
        f"error: the following arguments are required: {missing}"
    )
    assert "_command" not in result.stderr


# --- refusing to run nudges with no way to send them -------------------------------------


@pytest.fixture
def no_token_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment of a worker set up without SLACK_BOT_TOKEN."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENCRYPTION_KEYS", ENCRYPTION_KEY)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # nothing may be sent
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return database_url


def schedules_and_deliveries(database_url: str) -> tuple[list[datetime | None], int]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        due = list(connection.scalars(select(Schedule.next_due_at)))
        deliveries = len(list(connection.scalars(select(Delivery.id))))
    engine.dispose()
    return due, deliveries


@pytest.mark.parametrize("command", [["dispatch"], ["scheduler"]])
def test_dispatch_and_scheduler_refuse_to_start_with_no_way_to_send_and_burn_no_nudge(
    no_token_env: str, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    seed_due_members(no_token_env, count=2, due=due)  # a workspace row, but no install token
    assert main(command) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("Configuration error: SLACK_BOT_TOKEN is not set")
    assert "no workspace has installed the app" in line
    assert schedules_and_deliveries(no_token_env) == ([due, due], 0)


@pytest.fixture
def multi_env(no_token_env: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A worker in multi-workspace mode: installs bring the tokens."""
    monkeypatch.setenv("SLACK_CLIENT_ID", sim_oauth.CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", sim_oauth.CLIENT_SECRET)
    return no_token_env


async def install_from_env(team_id: str) -> None:
    ctx = build_context(load_settings())
    try:
        await install_token(ctx, team_id, DEFAULT_TOKEN)
    finally:
        await ctx.close()


def test_dispatch_runs_with_no_setting_when_a_workspace_installed_the_app(
    multi_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    due = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    seed_due_members(multi_env, count=1, due=due)
    asyncio.run(install_from_env("T0001"))
    assert main(["dispatch", "--at", (due - timedelta(minutes=1)).isoformat()]) == 0
    assert capsys.readouterr().out.strip() == "sent 0, skipped 0, failed 0"


def test_multi_workspace_mode_with_nothing_installed_is_no_way_to_send(
    multi_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    due = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    seed_due_members(multi_env, count=1, due=due)  # a workspace row, but no install
    assert main(["dispatch"]) == 2
    assert "no workspace has installed the app yet" in capsys.readouterr().err
    assert schedules_and_deliveries(multi_env) == ([due], 0)
