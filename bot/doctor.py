"""`leading-bot doctor`: is this deployment ready? One line per check, ✔ or ✘ with what to do.

Checks the settings, the database (answers, migrated to the latest revision), the encryption keys
(a stored value reads with them), and every workspace's token (Slack's `auth.test`) and the
scopes it was granted against the manifest's. Changes nothing: no migration, no key file made.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from alembic.script import ScriptDirectory
from cryptography.fernet import InvalidToken
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import system_clock
from bot.config import ConfigError, Settings
from bot.content import ContentError, load_library
from bot.crypto import Keyring, encryption_keys, key_file_path
from bot.db import create_engine, redacted, session_factory
from bot.manifest import BOT_SCOPES
from bot.migrate import alembic_config, current_revision
from bot.models import Reflection, slack_bots
from bot.services.installations import Installations, SealedStore
from bot.slack_client import SlackClients, make_client

OK, WRONG = "✔", "✘"


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    says: str

    def line(self) -> str:
        return f"{OK if self.ok else WRONG} {self.what}: {self.says}"


def latest_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def diagnose(settings: Settings) -> list[Check]:
    checks = [_mode(settings), _content(settings)]
    where = redacted(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        revision = current_revision(settings.database_url)
    except SQLAlchemyError as error:
        checks.append(
            Check(
                False,
                "Database",
                f"{where} does not answer ({type(error).__name__}). Check DATABASE_URL and "
                "that the database server is running.",
            )
        )
        await engine.dispose()
        return checks
    checks.append(Check(True, "Database", f"{where} answers"))
    latest = latest_revision()
    if revision != latest:
        checks.append(
            Check(
                False,
                "Migrations",
                f"at revision {revision or 'none'}, the latest is {latest}. "
                "Run `leading-bot db upgrade` (serve, scheduler and dispatch also do it on start).",
            )
        )
        await engine.dispose()
        return checks
    checks.append(Check(True, "Migrations", f"at the latest revision, {latest}"))
    try:
        keyring = _keyring(settings)
        checks.append(await _keys(engine, keyring))
        checks.extend(await _slack(settings, engine, keyring))
    except ConfigError as error:
        checks.append(
            Check(False, "Encryption keys", str(error).removeprefix("Configuration error: "))
        )
    finally:
        await engine.dispose()
    return checks


def _content(settings: Settings) -> Check:
    """The content `serve` would start with: CONTENT_DIR, else the shipped pack."""
    where = settings.content_dir
    try:
        library = load_library(where)
    except ContentError as error:
        count = len(error.errors)
        return Check(
            False,
            "Content",
            f"CONTENT_DIR {where} has {count} problem{'s' if count != 1 else ''}, so nothing "
            f"will start; `leading-bot content validate {where}` lists them",
        )
    count = len(library.capabilities)
    found = (
        f"{count} capabilities" if count > 1 else f"1 capability ({library.capabilities[0].title})"
    )
    return Check(
        True,
        "Content",
        f"{found} from CONTENT_DIR {where}" if where else f"the shipped pack, {found}",
    )


def _mode(settings: Settings) -> Check:
    if settings.slack_client_id:
        mode = "multi-workspace (each workspace installs from /slack/install)"
    elif settings.slack_bot_token:
        mode = "single workspace (SLACK_BOT_TOKEN)"
    else:
        return Check(
            False,
            "Configuration",
            "neither SLACK_BOT_TOKEN (one workspace) nor SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "(installs) is set. See README, 'Create the Slack app'.",
        )
    transport = "Socket Mode" if settings.slack_app_token else f"HTTP on port {settings.port}"
    if not settings.slack_app_token and not settings.slack_signing_secret:
        return Check(
            False,
            "Configuration",
            f"{mode}, but SLACK_SIGNING_SECRET is not set: every request from Slack would be "
            "refused. Copy it from your Slack app's Basic Information page.",
        )
    return Check(True, "Configuration", f"{mode}, {transport}")


def _keyring(settings: Settings) -> Keyring | None:
    """The keys, without making a key file: None when a SQLite key file is yet to be made."""
    path = key_file_path(settings.database_url)
    if not settings.encryption_keys and path is not None and not os.path.exists(path):
        return None
    return Keyring(encryption_keys(settings))


async def _keys(engine: AsyncEngine, keyring: Keyring | None) -> Check:
    sample = await _one_stored_value(engine)
    if keyring is None:
        if sample is None:
            return Check(True, "Encryption keys", "none yet; the first start makes a key file")
        return Check(
            False,
            "Encryption keys",
            "values are stored but there is no key: set ENCRYPTION_KEYS, or restore the key "
            "file beside the database from a backup.",
        )
    if sample is None:
        return Check(True, "Encryption keys", "set; nothing stored yet to read with them")
    try:
        keyring.decrypt(sample)
    except InvalidToken:
        return Check(
            False,
            "Encryption keys",
            "a stored value can't be read with them. Add the key it was written with "
            "(after the first) to ENCRYPTION_KEYS.",
        )
    return Check(True, "Encryption keys", "a stored value reads with them")


async def _one_stored_value(engine: AsyncEngine) -> str | None:
    queries = (
        select(Reflection.text).limit(1),
        select(slack_bots.c.bot_token).where(slack_bots.c.bot_token.is_not(None)).limit(1),
    )
    async with engine.connect() as connection:
        for query in queries:
            value = await connection.scalar(query)
            if value:
                return str(value)
    return None


async def _slack(settings: Settings, engine: AsyncEngine, keyring: Keyring | None) -> list[Check]:
    if not settings.slack_client_id:
        if not settings.slack_bot_token:
            return []
        client = make_client(settings, settings.slack_bot_token, retry_connection_errors=False)
        return [await _token_check(client, "Slack", None)]
    if keyring is None:
        return [Check(False, "Slack", "no workspace has installed the app yet")]
    clients = SlackClients(settings)
    installations = Installations(
        session_factory(engine), engine, settings, keyring, system_clock, clients
    )
    try:
        bots = await _installed_bots(engine, installations.store)
        if not bots:
            return [
                Check(
                    False,
                    "Slack",
                    "no workspace has installed the app yet: open /slack/install to add it.",
                )
            ]
        return [
            await _token_check(
                clients.for_token(bot.bot_token or "", retry_connection_errors=False),
                f"Slack {_named(bot)}",
                bot.bot_scopes,
            )
            for bot in bots
        ]
    finally:
        await clients.close()


async def _installed_bots(engine: AsyncEngine, store: SealedStore | None) -> list[Bot]:
    if store is None:
        return []
    async with engine.connect() as connection:
        places = (
            await connection.execute(
                select(
                    slack_bots.c.enterprise_id,
                    slack_bots.c.team_id,
                    slack_bots.c.is_enterprise_install,
                )
                .distinct()
                .order_by(slack_bots.c.enterprise_id, slack_bots.c.team_id)
            )
        ).all()
    found = []
    for enterprise_id, team_id, org_wide in places:
        bot = await store.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=org_wide
        )
        if bot is not None:
            found.append(bot)
    return found


def _named(bot: Bot) -> str:
    if bot.is_enterprise_install:
        return f"org {bot.enterprise_id} ({bot.enterprise_name or 'org-wide install'})"
    return f"{bot.team_id} ({bot.team_name or 'workspace'})"


async def _token_check(client: AsyncWebClient, what: str, granted: Sequence[str] | None) -> Check:
    try:
        answer = await client.auth_test()
    except SlackApiError as error:
        return Check(
            False,
            what,
            f"Slack refused the token ({error.response.get('error')}). "
            "Reinstall the app in that workspace (or set a fresh SLACK_BOT_TOKEN).",
        )
    except (OSError, TimeoutError) as error:
        return Check(
            False,
            what,
            f"Slack could not be reached ({type(error).__name__}). Check the network and "
            "SLACK_API_URL.",
        )
    scopes = granted or _header_scopes(answer.headers)
    if scopes is None:
        return Check(True, what, "the token works; Slack did not say which scopes it has")
    missing = sorted(set(BOT_SCOPES) - {scope.strip() for scope in scopes})
    if missing:
        return Check(
            False,
            what,
            f"the token works but lacks {', '.join(missing)}. Update the app from "
            "`leading-bot manifest` and reinstall it to grant them.",
        )
    return Check(True, what, "the token works and has every scope the manifest asks for")


def _header_scopes(headers: dict[str, object]) -> list[str] | None:
    for name, value in headers.items():
        if name.lower() == "x-oauth-scopes" and isinstance(value, str):
            return value.split(",")
    return None
