"""`leading-bot content validate` and `dispatch --at` as an operator runs them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.content import default_content_dir
from tests.test_config import run_cli


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
        "dispatch", "--at", "2026-12-07T09:00:00+13:00", DATABASE_URL=f"sqlite:///{database}"
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
