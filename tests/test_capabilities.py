"""An organisation's own content (CONTENT_DIR), checked at start-up, and several capabilities."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import aiohttp
import pytest

from bot.config import ConfigError, load_settings
from bot.content import default_content_dir, load_library, validate
from devkit.slack_sim import SlackSimulator, signed_headers, slash_command_body
from tests.helpers import (
    blocks_text,
    free_port,
    process_env,
    run_cli,
    start_serve,
    wait_until_healthy,
)

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> dict[str, str]:
    """The README's "Write your own pack" files: each ```yaml block opens with `# <path>`."""
    text = README.read_text("utf-8")
    section = text.split("## Write your own pack\n", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"```yaml\n(.*?)```", section, flags=re.S):
        first, _, rest = block.partition("\n")
        files[first.removeprefix("# ").strip()] = rest
    return files


def write_folder(target: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def own_pack(tmp_path: Path) -> Path:
    """An organisation's folder holding only the README's example."""
    return write_folder(tmp_path / "own", readme_example())


@pytest.fixture
def two_capabilities(tmp_path: Path) -> Path:
    """The shipped pack plus the README's example capability, as one CONTENT_DIR."""
    target = tmp_path / "two"
    shutil.copytree(
        default_content_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    pack = readme_example()["packs/listening-well.yaml"]
    (target / "packs" / "listening-well.yaml").write_text(pack, encoding="utf-8")
    return target


@pytest.fixture
def broken(own_pack: Path) -> Path:
    pack = own_pack / "packs" / "listening-well.yaml"
    text = pack.read_text("utf-8")
    text = text.replace('title: "Listening well"', 'title: ""')
    text = text.replace("for: tip-ask-then-wait", "for: tip-ask-and-wait")
    pack.write_text(text, encoding="utf-8")
    return own_pack


def line_in(path: Path, starting: str) -> int:
    lines = path.read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.strip().startswith(starting))


# --- the README's example and `content validate` ------------------------------------------


def test_the_readme_example_is_a_valid_pack(own_pack: Path) -> None:
    assert sorted(readme_example()) == ["framework.yaml", "packs/listening-well.yaml"]
    assert validate(own_pack) == []
    library = load_library(own_pack)
    assert [c.title for c in library.capabilities] == ["Listening well"]
    assert [i.kind for i in library.items()] == ["tip", "practice", "blocker"]


def test_content_validate_names_the_capabilities_of_a_folder(two_capabilities: Path) -> None:
    result = run_cli("content", "validate", str(two_capabilities))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Content is valid. 2 capabilities: Enhancing social system and sector performance, "
        "Listening well.\n"
    )


def test_content_validate_without_a_path_checks_content_dir(broken: Path) -> None:
    result = run_cli("content", "validate", CONTENT_DIR=str(broken))
    assert result.returncode == 1
    assert "packs/listening-well.yaml:" in result.stdout
    assert result.stderr == "3 problems found.\n"


def test_content_validate_of_a_missing_path_says_so(tmp_path: Path) -> None:
    result = run_cli("content", "validate", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr == f"{tmp_path / 'nowhere'}: no such file or folder\n"
    assert result.stdout == ""


# --- CONTENT_DIR at start-up ----------------------------------------------------------------


def test_content_dir_that_is_not_a_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(content_dir=str(tmp_path / "nowhere"))
    message = str(raised.value)
    assert message.startswith("Configuration error: CONTENT_DIR: ")
    assert "is not a folder" in message and "\n" not in message


def test_blank_content_dir_is_the_shipped_pack() -> None:
    assert load_settings(content_dir="  ").content_dir is None


@pytest.mark.parametrize("command", [["serve"], ["scheduler"], ["dispatch"]])
def test_a_broken_content_dir_stops_start_up_with_every_problem(
    command: list[str], broken: Path, tmp_path: Path
) -> None:
    pack = broken / "packs" / "listening-well.yaml"
    result = run_cli(*command, CONTENT_DIR=str(broken), DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    first, *rest = result.stderr.splitlines()
    assert first == (
        f"Content error: CONTENT_DIR {broken} has 3 problems; nothing was started. "
        f"Fix them (check with `leading-bot content validate {broken}`), then start again:"
    )
    assert rest == [
        f"  packs/listening-well.yaml:{line_in(pack, 'title:')}: title: must not be empty",
        f"  packs/listening-well.yaml:{line_in(pack, '- id: tip-ask-then-wait')}: tips[0]: "
        "no question is for 'tip-ask-then-wait'",
        f"  packs/listening-well.yaml:{line_in(pack, 'for: tip-ask-and-wait')}: "
        "questions[0].for: 'tip-ask-and-wait' names no tip, practice idea or blocker in this file",
    ]
    assert not (tmp_path / "x.db").exists()  # refused before the database was touched


async def test_serve_answers_from_the_content_dir(
    database_url: str, sim: SlackSimulator, own_pack: Path
) -> None:
    port = free_port()
    env = process_env(
        database_url,
        sim,
        SLACK_SIGNING_SECRET="serve-secret",
        PORT=str(port),
        CONTENT_DIR=str(own_pack),
    )
    process = await start_serve(env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_until_healthy(http, base)
            body = slash_command_body("tip", response_url=sim.response_url("serve"))
            headers = signed_headers("serve-secret", body)
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
                reply = await response.json()
            assert "Ask one open question, then wait." in blocks_text(reply["blocks"])
    finally:
        process.terminate()
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
