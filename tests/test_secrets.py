"""The database holds no secrets in clear: reflection text and workspace tokens are encrypted
with ENCRYPTION_KEYS (or, with SQLite, a key file beside the database), keys rotate, and
rows stored before encryption are encrypted by the migration."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.engine import make_url

from bot import cli
from bot.app_context import build_context
from bot.clock import ManualClock
from bot.config import ConfigError, Settings
from bot.crypto import Keyring, key_file_path, keyring_for, new_key
from bot.db import sync_url
from bot.migrate import alembic_config, upgrade
from bot.models import Member, Reflection, slack_bots, slack_installations
from bot.services.installations import TOKEN_FIELDS
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import PG_ENV, RunningApp
from tests.helpers import (
    DUE,
    blocks_text,
    dm,
    edit_event,
    install_token,
    open_reflect_modal,
    say,
    send_nudge,
    submit_modal,
    ts_at,
)

IN_THE_DM = "Kōrero with the quokka-7431 charge nurse about the roster"
EDITED = IN_THE_DM + ", and the marmoset-5562 plan"
IN_THE_MODAL = "Zephyr-2290 talk with the PHO went better than I hoped"
STORED_TOKEN = "xoxb-stored-T0001-9f8e7d6c5b4a"
# The rest of a rotating install that also holds the installer's own token.
INSTALL_TOKENS = {
    "bot_token": STORED_TOKEN,
    "bot_refresh_token": "xoxe-1-refresh-stored-3c4d2e1f",
    "user_token": "xoxe.xoxp-stored-U0001-8b7a6958",
    "user_refresh_token": "xoxe-1-user-refresh-stored-6e5f4a3b",
}
SECRETS = ("quokka-7431", "marmoset-5562", "Zephyr-2290", STORED_TOKEN, "9f8e7d6c5b4a")


# --- helpers ---------------------------------------------------------------------------------


def every_value(database_url: str) -> str:
    """Every column of every row of every table, as text."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            assert {"reflections", "workspaces", "alembic_version"} <= set(tables)
            return "\n".join(
                repr(tuple(row))
                for table in tables
                for row in connection.execute(text(f'SELECT * FROM "{table}"'))
            )
    finally:
        engine.dispose()


def sqlite_files(database_url: str) -> dict[str, bytes]:
    """The raw bytes of the SQLite database and its -wal and -shm files, where they exist."""
    path = Path(make_url(database_url).database or "")
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    return {file.name: file.read_bytes() for file in files if file.exists()}


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> int:
    """`leading-bot ARGS` in this process, with exactly these settings in the environment."""
    for name in ("ENCRYPTION_KEYS", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")  # never called here
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return cli.main(list(args))


MULTI_ENV = {
    "SLACK_CLIENT_ID": sim_oauth.CLIENT_ID,
    "SLACK_CLIENT_SECRET": sim_oauth.CLIENT_SECRET,
}


def settings_for(database_url: str, keys: str | None = None) -> Settings:
    """Multi-workspace mode, so a workspace's token is kept in the database."""
    return Settings(
        database_url=database_url,
        encryption_keys=keys,
        slack_api_url="http://127.0.0.1:9/api/",
        slack_client_id=sim_oauth.CLIENT_ID,
        slack_client_secret=sim_oauth.CLIENT_SECRET,
    )


async def write_reflections(database_url: str, keys: str, texts: list[str]) -> None:
    """Reflections and a workspace token, stored through the services with `keys`."""
    clock = ManualClock(DUE)
    ctx = build_context(settings_for(database_url, keys), clock=clock)
    try:
        for words in texts:
            clock.advance(timedelta(minutes=1))
            await ctx.reflections.capture_modal("T0001", "U0001", None, words)
        await install_token(
            ctx,
            "T0001",
            STORED_TOKEN,
            bot_refresh_token=INSTALL_TOKENS["bot_refresh_token"],
            user_token=INSTALL_TOKENS["user_token"],
            user_refresh_token=INSTALL_TOKENS["user_refresh_token"],
        )
    finally:
        await ctx.close()


async def read_back(database_url: str, keys: str | None) -> tuple[list[str], str | None]:
    """What the app reads: the texts through Reflections, the token through the token look-up."""
    ctx = build_context(settings_for(database_url, keys))
    try:
        entries = await ctx.reflections.everything("T0001", "U0001")
        token = await ctx.installations.token_for("T0001")
    finally:
        await ctx.close()
    return [entry.text for entry in entries], token


async def read_install(database_url: str, keys: str) -> dict[str, str | None]:
    """Every token of T0001's install, as the app reads it back (decrypted)."""
    ctx = build_context(settings_for(database_url, keys))
    try:
        assert ctx.installations.store is not None
        found = await ctx.installations.store.async_find_installation(
            enterprise_id=None, team_id="T0001"
        )
    finally:
        await ctx.close()
    assert found is not None
    return {name: getattr(found, name) for name in TOKEN_FIELDS}


def stored(database_url: str) -> tuple[list[str], list[str]]:
    """The raw reflection texts and installs' tokens (bot, user and refresh), as the database
    holds them."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            texts = list(connection.scalars(select(Reflection.text).order_by(Reflection.id)))
            tokens = [
                token
                for table in (slack_installations, slack_bots)
                for name in TOKEN_FIELDS
                if name in table.c
                for token in connection.scalars(select(table.c[name]))
                if token is not None
            ]
    finally:
        engine.dispose()
    return texts, tokens


def stored_at_0008(database_url: str) -> tuple[list[str], list[str]]:
    """The same, for a database at revision 0008, when workspaces kept their token."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            texts = list(connection.scalars(text("SELECT text FROM reflections ORDER BY id")))
            tokens = list(
                connection.scalars(
                    text("SELECT bot_token FROM workspaces WHERE bot_token IS NOT NULL")
                )
            )
    finally:
        engine.dispose()
    return texts, tokens


# --- nothing in clear --------------------------------------------------------------------------


async def test_no_reflection_words_or_bot_token_anywhere_in_the_database_or_its_files(
    multi_app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    app = multi_app
    app.sim.add_workspace("T0001", STORED_TOKEN)  # Slack knows the workspace by its install
    page = await app.slack.install("T0001", rotating=True, user_token=True)
    assert page.status == 200
    assert app.ctx.installations.store is not None
    install = await app.ctx.installations.store.async_find_installation(
        enterprise_id=None, team_id="T0001"
    )
    assert install is not None
    install_tokens = [str(getattr(install, name)) for name in TOKEN_FIELDS]
    assert install_tokens[0] == STORED_TOKEN
    assert [token[:10] for token in install_tokens[1:]] == [
        "xoxe-1-ref",
        "xoxe.xoxp-",
        "xoxe-1-use",
    ]
    nudge = await send_nudge(app, clock)
    ts = ts_at(DUE + timedelta(hours=1))
    await say(app, dm(IN_THE_DM, ts, thread_ts=nudge.message_ts))
    await say(app, edit_event(ts, EDITED))
    view = await open_reflect_modal(app, nudge)
    await submit_modal(app, view, IN_THE_MODAL)
    app.sim.clear()
    await app.slack.slash("export")
    await app.settle()
    [content] = [file.decode() for file in app.sim.uploaded_files.values()]
    assert EDITED in content and IN_THE_MODAL in content  # the export, made with that token
    assert app.sim.calls_to("files.completeUploadExternal")[0].failed is None
    journal = await app.slack.slash("journal")
    assert "marmoset-5562" in blocks_text(journal.json()["blocks"])  # and the journal reads it

    values = every_value(database_url)
    assert "U0001" in values and nudge.item_id in values  # the scan does see the rows
    for secret in (*SECRETS, *install_tokens):
        assert secret not in values
    if database_url.startswith("sqlite"):
        files = sqlite_files(database_url)
        assert "test.db" in files and "test.db-wal" in files
        everything = b"".join(files.values())
        assert b"U0001" in everything
        for secret in (*SECRETS, *install_tokens):
            assert secret.encode() not in everything


async def test_text_is_stored_under_the_first_key_and_read_with_any(
    app: RunningApp, clock: ManualClock
) -> None:
    await say(app, dm("Under the first key.", ts_at(DUE)))
    [row] = await app_rows(app)
    assert "first key" not in row
    assert app.ctx.keyring.under_first_key(row)
    rotated = Keyring([new_key(), app.ctx.settings.encryption_key_list[0]])
    assert rotated.decrypt(row) == "Under the first key."
    assert not rotated.under_first_key(row)


async def app_rows(app: RunningApp) -> list[str]:
    async with app.ctx.sessions() as session:
        return list(await session.scalars(select(Reflection.text)))


# --- ENCRYPTION_KEYS, the key file, and refusing to start without a key -----------------------


def test_keys_new_prints_a_key_that_encryption_keys_accepts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, "keys", "new") == 0
    first = capsys.readouterr().out.strip()
    assert run_cli(monkeypatch, "keys", "new") == 0
    second = capsys.readouterr().out.strip()
    assert first != second
    settings = settings_for("sqlite:///x.db", f" {first} , {second} ")
    assert settings.encryption_key_list == [first, second]
    keyring = keyring_for(settings)
    assert keyring.under_first_key(keyring.encrypt("kia ora"))
    assert keyring.decrypt(Keyring([second]).encrypt("kia ora")) == "kia ora"


def test_sqlite_without_encryption_keys_makes_a_private_key_file_once_and_reuses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.crypto")
    url = f"sqlite:///{tmp_path / 'leading-bot.db'}"
    assert run_cli(monkeypatch, "db", "upgrade", DATABASE_URL=url) == 0
    key_file = tmp_path / "leading-bot.db.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text().strip()
    made = [r.getMessage() for r in caplog.records if "new encryption key" in r.getMessage()]
    assert made == [
        f"Made a new encryption key in {key_file} (mode 0600). Keep it with the database: "
        "without it the reflections can't be read."
    ]
    assert key not in caplog.text

    asyncio.run(write_reflections(url, key, ["Written on a laptop."]))
    assert run_cli(monkeypatch, "dispatch", DATABASE_URL=url, **MULTI_ENV) == 0  # a later start
    assert key_file.read_text().strip() == key
    assert len([r for r in caplog.records if "new encryption key" in r.getMessage()]) == 1
    assert asyncio.run(read_back(url, None)) == (["Written on a laptop."], STORED_TOKEN)


def test_an_in_memory_sqlite_database_gets_a_key_for_the_process_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    keyring = keyring_for(settings_for("sqlite://"))
    assert keyring.decrypt(keyring.encrypt("gone when the process ends")) == (
        "gone when the process ends"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///leading-bot.db", "leading-bot.db.key"),
        ("sqlite:////data/nudges.db", "/data/nudges.db.key"),
        ("sqlite+aiosqlite:///x.db", "x.db.key"),
        ("sqlite:///file:x.db?uri=true", "x.db.key"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:x?mode=memory&uri=true", None),
        ("postgresql://localhost/nudges", None),
    ],
)
def test_the_key_file_sits_beside_a_sqlite_database_file(url: str, path: str | None) -> None:
    assert key_file_path(url) == (Path(path) if path else None)


def test_a_key_file_that_holds_no_key_stops_start_up_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.db.key").write_text("not a key\n")
    with pytest.raises(ConfigError) as error:
        keyring_for(settings_for(f"sqlite:///{tmp_path / 'x.db'}"))
    message = str(error.value)
    assert "ENCRYPTION_KEYS is not set and the key file" in message
    assert "does not hold a key" in message and "\n" not in message


def test_a_key_file_that_cannot_be_made_stops_start_up_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        keyring_for(settings_for(f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"))
    message = str(error.value)
    assert "could not be made (No such file or directory)" in message
    assert "Set ENCRYPTION_KEYS" in message and "\n" not in message


@pytest.mark.parametrize(
    "command",
    [["serve"], ["scheduler"], ["dispatch"], ["db", "upgrade"], ["keys", "rotate"]],
    ids=lambda words: " ".join(words),
)
def test_postgresql_without_encryption_keys_refuses_to_start_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    code = run_cli(
        monkeypatch,
        *command,
        DATABASE_URL="postgresql://nobody@127.0.0.1:9/never-reached",
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="s",
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [
        "Configuration error: ENCRYPTION_KEYS is not set: with PostgreSQL it is required, "
        "to encrypt reflections and tokens. Make a key with `leading-bot keys new`."
    ]


# --- keys rotate ----------------------------------------------------------------------------


def test_keys_rotate_re_encrypts_everything_with_the_first_key_and_says_what_it_did(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = new_key(), new_key()
    asyncio.run(write_reflections(database_url, old, ["One.", "Two.", "Three."]))
    env = {"DATABASE_URL": database_url, "ENCRYPTION_KEYS": f"{new},{old}"}
    # Bot, refresh and user tokens: four in the install's row, two in its bot's.
    assert len(stored(database_url)[1]) == 6
    assert run_cli(monkeypatch, "keys", "rotate", **env) == 0
    assert capsys.readouterr().out.strip() == (
        "Re-encrypted 3 reflections and 6 Slack tokens with the first key; 0 already used it."
    )
    texts, tokens = stored(database_url)
    assert all(Keyring([new]).under_first_key(value) for value in texts + tokens)
    assert not set(INSTALL_TOKENS.values()) & set(tokens)
    # The old key can go now.
    assert asyncio.run(read_back(database_url, new)) == (["One.", "Two.", "Three."], STORED_TOKEN)
    assert asyncio.run(read_install(database_url, new)) == INSTALL_TOKENS
    assert run_cli(monkeypatch, "keys", "rotate", **env) == 0
    assert capsys.readouterr().out.strip() == (
        "Re-encrypted 0 reflections and 0 Slack tokens with the first key; 9 already used it."
    )


def stop_updates_of(database_url: str, reflection_id: int) -> None:
    """A real fault: the database refuses to update one reflection row."""
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER stop_rotation BEFORE UPDATE ON reflections "
                    f"WHEN OLD.id = {reflection_id} BEGIN SELECT RAISE(ABORT, 'disk gone'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION stop_rotation() RETURNS trigger AS $$ BEGIN "
                    f"IF OLD.id = {reflection_id} THEN RAISE EXCEPTION 'disk gone'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER stop_rotation BEFORE UPDATE ON reflections "
                    "FOR EACH ROW EXECUTE FUNCTION stop_rotation()"
                )
            )
    engine.dispose()


def allow_updates(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER stop_rotation"))
        else:
            connection.execute(text("DROP TRIGGER stop_rotation ON reflections"))
            connection.execute(text("DROP FUNCTION stop_rotation()"))
    engine.dispose()


def test_keys_rotate_interrupted_keeps_finished_batches_and_carries_on_when_run_again(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = new_key(), new_key()
    words = [f"Reflection {i}." for i in range(5)]
    asyncio.run(write_reflections(database_url, old, words))
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        ids = list(connection.scalars(select(Reflection.id).order_by(Reflection.id)))
    engine.dispose()
    stop_updates_of(database_url, ids[3])  # in the second batch of two
    env = {"DATABASE_URL": database_url, "ENCRYPTION_KEYS": f"{new},{old}"}
    try:
        assert run_cli(monkeypatch, "keys", "rotate", "--batch", "2", **env) == 1
    finally:
        allow_updates(database_url)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("Database error: keys rotate stopped in ")
    assert err[0].endswith("What was done is kept; run it again to carry on.")
    texts, _tokens = stored(database_url)
    assert [Keyring([new]).under_first_key(value) for value in texts] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert run_cli(monkeypatch, "keys", "rotate", "--batch", "2", **env) == 0
    assert capsys.readouterr().out.strip() == (
        "Re-encrypted 3 reflections and 6 Slack tokens with the first key; 2 already used it."
    )
    assert asyncio.run(read_back(database_url, new)) == (words, STORED_TOKEN)


def test_keys_rotate_batch_must_be_a_whole_number_of_one_or_more(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_code:
        run_cli(monkeypatch, "keys", "rotate", "--batch", "0")
    assert exit_code.value.code == 2
    assert "--batch: “0” is not a whole number of 1 or more" in capsys.readouterr().err


def test_settings_never_show_the_keys() -> None:
    key = new_key()
    assert key not in repr(settings_for("sqlite:///x.db", key))


def test_keys_rotate_without_the_key_a_value_was_written_with_says_so_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(write_reflections(database_url, new_key(), ["Lost key."]))
    code = run_cli(
        monkeypatch, "keys", "rotate", DATABASE_URL=database_url, ENCRYPTION_KEYS=new_key()
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("Configuration error: ENCRYPTION_KEYS: reflections row ")
    assert "can't be read with any of the keys" in err[0]


# --- the migration encrypts what was stored before ------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0004(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated only to revision 0004, before anything was encrypted."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, "0004")
        yield url
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(sync_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        upgrade(url, "0004")
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


PLAIN = ["Written before encryption.", "Also before, with ā and 🌿."]


def store_plaintext(url: str) -> None:
    """Rows as the app wrote them at revision 0004: text and token in clear."""
    engine = create_engine(sync_url(url))
    when = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO workspaces (team_id, active, created_at, bot_token) "
                "VALUES ('T0001', :yes, :when, :token)"
            ),
            {"yes": True, "when": when, "token": STORED_TOKEN},
        )
        connection.execute(
            insert(Member), [{"team_id": "T0001", "user_id": "U0001", "created_at": when}]
        )
        connection.execute(
            insert(Reflection),
            [
                {
                    "team_id": "T0001",
                    "user_id": "U0001",
                    "source": "free",
                    "text": words,
                    "created_at": when + timedelta(minutes=i),
                }
                for i, words in enumerate(PLAIN)
            ],
        )
    engine.dispose()


def test_upgrade_encrypts_rows_stored_before_and_the_app_reads_them(url_at_0004: str) -> None:
    store_plaintext(url_at_0004)
    key = new_key()
    upgrade(url_at_0004, "0008", encryption_keys=[key])
    texts, tokens = stored_at_0008(url_at_0004)
    assert len(texts) == 2 and len(tokens) == 1
    for value in texts + tokens:
        assert value not in PLAIN and value != STORED_TOKEN
        assert Keyring([key]).under_first_key(value)
    assert [Keyring([key]).decrypt(value) for value in texts + tokens] == [*PLAIN, STORED_TOKEN]
    values = every_value(url_at_0004)
    assert "U0001" in values  # the members kept through the column change
    for secret in (*PLAIN, STORED_TOKEN):
        assert secret not in values
    upgrade(url_at_0004, encryption_keys=[key])  # on to today's schema: the app reads them
    assert asyncio.run(read_back(url_at_0004, key)) == (PLAIN, None)


def test_upgrade_with_rows_to_encrypt_and_no_key_stops_with_a_clear_message(
    url_at_0004: str,
) -> None:
    store_plaintext(url_at_0004)
    with pytest.raises(RuntimeError) as error:
        upgrade(url_at_0004)
    assert str(error.value).startswith(
        "ENCRYPTION_KEYS: 2 reflections and 1 workspace tokens need encrypting and no key was "
        "given."
    )
    assert stored_at_0008(url_at_0004) == (PLAIN, [STORED_TOKEN])  # nothing half-done


def test_db_upgrade_on_an_old_sqlite_database_encrypts_with_the_new_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'laptop.db'}"
    upgrade(url, "0004")
    store_plaintext(url)
    assert run_cli(monkeypatch, "db", "upgrade", DATABASE_URL=url) == 0
    key = (tmp_path / "laptop.db.key").read_text().strip()
    texts, _tokens = stored(url)
    assert [Keyring([key]).decrypt(value) for value in texts] == PLAIN
    # No release stored a workspace token before installs (0009 drops that column).
    assert asyncio.run(read_back(url, None)) == (PLAIN, None)


def test_downgrade_decrypts_again(url_at_0004: str) -> None:
    store_plaintext(url_at_0004)
    key = new_key()
    upgrade(url_at_0004, "0008", encryption_keys=[key])
    command.downgrade(alembic_config(url_at_0004, [key]), "0004")
    assert stored_at_0008(url_at_0004) == (PLAIN, [STORED_TOKEN])
