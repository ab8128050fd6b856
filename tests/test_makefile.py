"""`make` checks the Python version before it makes or uses .venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the Makefile in a folder of its own, so the real .venv is never touched."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "pyproject.toml").touch()
    return tmp_path


def fake_python(path: Path, version: str) -> Path:
    """A stand-in interpreter that answers every question with its version, like `python -c`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def make(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(folder), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_demo_refuses_a_python_older_than_3_11_before_making_a_venv(checkout: Path) -> None:
    python = fake_python(checkout / "python3.9", "3.9")
    result = make(checkout, "demo", f"PYTHON={python}")
    assert result.returncode != 0
    assert result.stderr.splitlines()[:2] == [
        f"This app needs Python 3.11 or newer, and {python} is Python 3.9.",
        "Install a newer Python and name it, e.g. make PYTHON=python3.12 demo",
    ]
    assert not (checkout / ".venv").exists()


def test_make_test_refuses_a_venv_made_by_an_old_python_and_says_how_to_fix_it(
    checkout: Path,
) -> None:
    fake_python(checkout / ".venv" / "bin" / "python", "3.9")
    result = make(checkout, "test", f"PYTHON={sys.executable}")
    assert result.returncode != 0
    assert result.stderr.splitlines()[:2] == [
        ".venv was made by Python 3.9, and this app needs Python 3.11 or newer.",
        "Remove it and make it again with a newer Python: "
        "rm -rf .venv && make PYTHON=python3.12 demo",
    ]
    assert not (checkout / ".venv" / ".installed-dev").exists()


def test_make_refuses_a_venv_whose_python_no_longer_runs(checkout: Path) -> None:
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(checkout / "python3.10-was-removed")
    result = make(checkout, "demo")
    assert result.returncode != 0
    assert ".venv's Python no longer runs" in result.stderr
    assert "rm -rf .venv && make PYTHON=python3.12 demo" in result.stderr


def test_make_refuses_a_python_that_does_not_run(checkout: Path) -> None:
    result = make(checkout, "python-version", "PYTHON=no-such-python")
    assert result.returncode != 0
    assert "This app needs Python 3.11 or newer, and no-such-python did not run." in result.stderr


@pytest.mark.parametrize(
    ("version", "accepted"),
    [
        ("2.7", False),
        ("3.9", False),
        ("3.10", False),
        ("3.11", True),
        ("3.13", True),
        ("4.0", True),
    ],
)
def test_the_version_check_accepts_3_11_and_newer(
    checkout: Path, version: str, accepted: bool
) -> None:
    python = fake_python(checkout / f"python{version}", version)
    result = make(checkout, "python-version", f"PYTHON={python}")
    assert (result.returncode == 0) is accepted, result.stderr


def test_the_version_check_accepts_the_python_running_these_tests(checkout: Path) -> None:
    result = make(checkout, "python-version", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
