"""`leading-bot doctor`: one line per check, ✔ or ✘ with what to do, exit 1 if anything is
wrong; run as a real process against the simulator and real databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.config import Settings
from bot.crypto import new_key
from bot.doctor import latest_revision
from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import SIGNING_SECRET, RunningApp
from tests.helpers import dm, run_cli, run_cli_beside, say, ts_at


def env_for(settings: Settings, **more: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": settings.database_url,
        "SLACK_API_URL": settings.slack_api_url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "ENCRYPTION_KEYS": settings.encryption_keys or "",
    }
    if settings.slack_bot_token:
        env["SLACK_BOT_TOKEN"] = settings.slack_bot_token
    if settings.slack_client_id:
        env["SLACK_CLIENT_ID"] = sim_oauth.CLIENT_ID
        env["SLACK_CLIENT_SECRET"] = sim_oauth.CLIENT_SECRET
    env.update(more)
    return env


async def test_a_healthy_single_workspace_deployment_is_all_ticks(
    app: RunningApp, settings: Settings
) -> None:
    await say(app, dm("Something to read back with the keys.", ts_at(app.ctx.clock())))
    result = await run_cli_beside("doctor", **env_for(settings))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "✔ Configuration: single workspace (SLACK_BOT_TOKEN), HTTP on port 3000",
        "✔ Content: the shipped pack, 1 capability (Enhancing social system and sector "
        "performance)",
        f"✔ Database: {settings.database_url} answers",
        f"✔ Migrations: at the latest revision, {latest_revision()}",
        "✔ Encryption keys: a stored value reads with them",
        "✔ Slack: the token works and has every scope the manifest asks for",
    ]
    assert DEFAULT_TOKEN not in result.stdout + result.stderr


async def test_each_install_is_checked_and_a_revoked_token_or_missing_scope_is_named(
    multi_app: RunningApp, multi_settings: Settings, sim: SlackSimulator
) -> None:
    app = multi_app
    for team in ("T0100", "T0200", "T0300"):
        assert (await app.slack.install(team, name=f"Hauora {team}")).status == 200
    sim.revoke(sim.token_of("T0200"))
    result = await run_cli_beside("doctor", **env_for(multi_settings))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✔ Configuration: multi-workspace")
    assert lines[-3:] == [
        "✔ Slack T0100 (Hauora T0100): the token works and has every scope the manifest asks for",
        "✘ Slack T0200 (Hauora T0200): Slack refused the token (token_revoked). Reinstall the "
        "app in that workspace (or set a fresh SLACK_BOT_TOKEN).",
        "✔ Slack T0300 (Hauora T0300): the token works and has every scope the manifest asks for",
    ]
    for team in ("T0100", "T0300"):
        assert sim.token_of(team) not in result.stdout + result.stderr


async def test_a_token_granted_fewer_scopes_than_the_manifest_asks_is_named(
    settings: Settings, sim: SlackSimulator, tmp_path: Path
) -> None:
    sim._workspace("T0001").scopes = ("commands", "chat:write", "im:history", "users:read")
    result = await run_cli_beside("doctor", **env_for(settings))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        "✘ Slack: the token works but lacks channels:read, dnd:read, files:write, groups:read, "
        "im:write, reactions:write. Update the app from `leading-bot manifest` and reinstall it "
        "to grant them."
    )


async def test_multi_workspace_mode_with_nothing_installed_says_how_to_install(
    multi_settings: Settings, multi_app: RunningApp
) -> None:
    result = await run_cli_beside("doctor", **env_for(multi_settings))
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        "✘ Slack: no workspace has installed the app yet: open /slack/install to add it."
    )


def test_a_database_that_does_not_answer_is_named_without_its_password() -> None:
    url = "postgresql://nurse:hunter2@127.0.0.1:9/nowhere"
    result = run_cli("doctor", DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    assert result.returncode == 1
    assert result.stdout.splitlines()[2].startswith(
        "✘ Database: postgresql://nurse:***@127.0.0.1:9/nowhere does not answer (OperationalError)"
    )
    assert "hunter2" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_a_database_not_yet_migrated_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    result = run_cli("doctor", DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1] == (
        f"✘ Migrations: at revision none, the latest is {latest_revision()}. Run `leading-bot db "
        "upgrade` (serve, scheduler and dispatch also do it on start)."
    )
    assert not (tmp_path / "new.db.key").exists()  # doctor changes nothing


async def test_keys_that_cannot_read_what_is_stored_are_named(
    app: RunningApp, settings: Settings
) -> None:
    await say(app, dm("Written with the first key.", ts_at(app.ctx.clock())))
    result = await run_cli_beside("doctor", **env_for(settings, ENCRYPTION_KEYS=new_key()))
    assert result.returncode == 1
    assert (
        "✘ Encryption keys: a stored value can't be read with them. Add the key it was written "
        "with (after the first) to ENCRYPTION_KEYS." in result.stdout.splitlines()
    )


def test_missing_or_wrong_settings_are_one_cross_line_each() -> None:
    nothing = run_cli("doctor", DATABASE_URL="sqlite://")
    assert nothing.returncode == 1
    assert nothing.stdout.splitlines()[0].startswith(
        "✘ Configuration: neither SLACK_BOT_TOKEN (one workspace) nor SLACK_CLIENT_ID"
    )
    unsigned = run_cli("doctor", DATABASE_URL="sqlite://", SLACK_BOT_TOKEN="xoxb-1")
    assert "but SLACK_SIGNING_SECRET is not set" in unsigned.stdout.splitlines()[0]
    wrong = run_cli("doctor", PORT="eighty")
    assert wrong.returncode == 1
    assert wrong.stdout.startswith("✘ Configuration: PORT:")
    assert "Traceback" not in nothing.stderr + unsigned.stderr + wrong.stderr


def test_slack_that_cannot_be_reached_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.db'}"
    assert run_cli("db", "upgrade", DATABASE_URL=url).returncode == 0
    result = run_cli(
        "doctor",
        DATABASE_URL=url,
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:9/api/",
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[-2] == "✔ Encryption keys: set; nothing stored yet to read with them"
    assert lines[-1].startswith("✘ Slack: Slack could not be reached (")


def test_postgresql_without_encryption_keys_is_a_cross(postgres_url: str) -> None:
    result = run_cli(
        "doctor", DATABASE_URL=postgres_url, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s"
    )
    assert result.returncode == 1
    assert result.stdout.splitlines()[-1].startswith(
        "✘ Encryption keys: ENCRYPTION_KEYS is not set: with PostgreSQL it is required"
    )


def test_sqlite_values_stored_without_their_key_file_are_a_cross(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'laptop.db'}"
    env = {"DATABASE_URL": url, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert run_cli("db", "upgrade", **env).returncode == 0  # makes laptop.db.key
    fresh = run_cli("doctor", **env, SLACK_API_URL="http://127.0.0.1:9/api/")
    assert "✔ Encryption keys: set; nothing stored yet to read with them" in fresh.stdout
    key = tmp_path / "laptop.db.key"
    with sqlite3.connect(tmp_path / "laptop.db") as connection:
        connection.execute(
            "INSERT INTO workspaces (team_id, active, created_at) VALUES ('T1', 1, '2026-11-29')"
        )
        connection.execute(
            "INSERT INTO members (team_id, user_id, created_at) VALUES ('T1', 'U1', '2026-11-29')"
        )
        connection.execute(
            "INSERT INTO reflections (team_id, user_id, source, text, created_at) "
            "VALUES ('T1', 'U1', 'free', 'sealed', '2026-11-29')"
        )
    key.unlink()
    lost = run_cli("doctor", **env, SLACK_API_URL="http://127.0.0.1:9/api/")
    assert lost.returncode == 1
    assert (
        "✘ Encryption keys: values are stored but there is no key: set ENCRYPTION_KEYS, or "
        "restore the key file beside the database from a backup."
    ) in lost.stdout.splitlines()
    assert not key.exists()  # doctor makes no new key over lost data
    empty = tmp_path / "empty.db"
    empty_env = {**env, "DATABASE_URL": f"sqlite:///{empty}"}
    assert run_cli("db", "upgrade", **empty_env).returncode == 0
    (tmp_path / "empty.db.key").unlink()
    none_yet = run_cli("doctor", **empty_env, SLACK_API_URL="http://127.0.0.1:9/api/")
    assert "✔ Encryption keys: none yet; the first start makes a key file" in none_yet.stdout
