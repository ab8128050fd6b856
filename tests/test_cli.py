"""`leading-bot content validate` and `dispatch --at` as an operator runs them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

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
