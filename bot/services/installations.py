"""Installs (multi-workspace mode): which bot token speaks for a workspace, kept encrypted.

slack_sdk's `AsyncSQLAlchemyInstallationStore` keeps installs in our database; `SealedStore`
wraps it so every token (bot, user, and their refresh tokens) is written encrypted with the
keyring and read back in clear. `Installations` answers "which token for this team?" for every
surface and the scheduler alike: a workspace's own install first, else its Enterprise Grid org's
org-wide install, refreshed before it expires when the install rotates tokens.

In single-workspace mode (SLACK_BOT_TOKEN) there is no store and every team gets that token.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.config import Settings
from bot.crypto import Keyring
from bot.db import Sessions
from bot.logs import keep_oauth_secrets_out
from bot.models import Workspace, slack_bots
from bot.services.store import insert_ignoring_duplicates
from bot.services.workspaces import reopen_workspaces
from bot.slack_client import SlackClients

logger = logging.getLogger(__name__)

# Refresh a rotating token this long before it expires (Bolt's default too).
REFRESH_BEFORE = timedelta(minutes=120)
# After Slack refuses a refresh, ask again no sooner than this (one request makes several calls).
REFRESH_HOLD_OFF = timedelta(minutes=5)
STATE_SECONDS = 10 * 60  # an install link's state is good for ten minutes
TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")

Record = TypeVar("Record", Bot, Installation)


def _sealed(record: Record, change: object) -> Record:
    """A copy of an install or bot with each token passed through `change`."""
    copied = copy.copy(record)
    for name in TOKEN_FIELDS:
        value = getattr(copied, name, None)
        if value:
            setattr(copied, name, change(value))  # type: ignore[operator]
    return copied


class SealedStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy store, with every token encrypted at rest."""

    def __init__(self, inner: AsyncSQLAlchemyInstallationStore, keyring: Keyring) -> None:
        self._inner = inner
        self._keyring = keyring

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        await self._inner.async_save(_sealed(installation, self._keyring.encrypt))

    async def async_save_bot(self, bot: Bot) -> None:
        await self._inner.async_save_bot(_sealed(bot, self._keyring.encrypt))

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        bot = await self._inner.async_find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return _sealed(bot, self._keyring.decrypt) if bot is not None else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await self._inner.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return _sealed(found, self._keyring.decrypt) if found is not None else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._inner.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self._inner.async_delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )


@dataclass(frozen=True)
class Place:
    """Where a request or schedule belongs: its workspace, and its Grid org if it has one."""

    team_id: str | None
    enterprise_id: str | None = None
    is_enterprise_install: bool = False


class Installations:
    """Tokens by workspace. Never logs a token."""

    def __init__(
        self,
        sessions: Sessions,
        engine: AsyncEngine,
        settings: Settings,
        keyring: Keyring,
        clock: Clock,
        clients: SlackClients,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock
        self._clients = clients
        self._known: dict[str, str | None] = {}  # team → enterprise, once recorded
        self._last_token: dict[str, str] = {}  # team → last token found, for a database outage
        self._refused: dict[str, datetime] = {}  # refresh token → when Slack last refused it
        self.store: SealedStore | None = None
        self.state_store: AsyncSQLAlchemyOAuthStateStore | None = None
        if settings.slack_client_id:
            inner = AsyncSQLAlchemyInstallationStore(
                client_id=settings.slack_client_id, engine=engine, logger=logger
            )
            self.store = SealedStore(inner, keyring)
            self.state_store = AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=STATE_SECONDS,
                engine=engine,
                logger=keep_oauth_secrets_out(logger),  # it logs the state value
            )

    @property
    def multi_workspace(self) -> bool:
        return self.store is not None

    # --- finding a token -------------------------------------------------------------------

    async def bot_for(self, place: Place) -> Bot | None:
        """The bot install serving this place, refreshed if it is about to expire; records which
        org the team belongs to, so the scheduler can find the same install later."""
        if self.store is None:
            return None
        bot = None
        if place.team_id and not place.is_enterprise_install:
            bot = await self.store.async_find_bot(
                enterprise_id=place.enterprise_id, team_id=place.team_id
            )
        if bot is None and place.enterprise_id:
            bot = await self.store.async_find_bot(
                enterprise_id=place.enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is None:
            return None
        if place.team_id:
            await self._remember(place.team_id, place.enterprise_id)
        return await self._fresh(bot)

    async def token_for(self, team_id: str, enterprise_id: str | None = None) -> str | None:
        """The bot token for a workspace: the setting, or its install's token (else its org's).

        A request names its Grid org (`enterprise_id`), and finding the install records the
        team's org; the scheduler, which knows only the team, reads that record."""
        if self.store is None:
            return self._settings.slack_bot_token
        if enterprise_id is None:
            async with self._sessions() as session:
                enterprise_id = await session.scalar(
                    select(Workspace.enterprise_id).where(Workspace.team_id == team_id)
                )
        bot = await self.bot_for(Place(team_id, enterprise_id))
        if bot is None or not bot.bot_token:
            return None
        self._last_token[team_id] = bot.bot_token
        return bot.bot_token

    def last_token(self, team_id: str) -> str | None:
        """When the database can't be read: the setting, or the token this process last found."""
        return self._settings.slack_bot_token or self._last_token.get(team_id)

    async def active_count(self) -> int:
        """Workspaces the app is installed and active in; 1 in single-workspace mode."""
        if self.store is None:
            return 1 if self._settings.slack_bot_token else 0
        async with self._sessions() as session:
            count = await session.scalar(select(func.count()).where(Workspace.active))
        return int(count or 0)

    async def any_installed(self) -> bool:
        """Whether there is any way to send: the setting, or at least one install's bot."""
        if self.store is None:
            return bool(self._settings.slack_bot_token)
        async with self._sessions() as session:
            found = await session.scalar(
                select(slack_bots.c.id).where(slack_bots.c.bot_token.is_not(None)).limit(1)
            )
        return found is not None

    # --- keeping records -------------------------------------------------------------------

    async def save(self, installation: Installation) -> bool:
        """A finished OAuth install: keep it (encrypted) and mark its workspace installed.
        True when it is a reinstall of a workspace (or org) that was uninstalled or revoked."""
        if self.store is None:
            raise RuntimeError("installs need SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
        await self.store.async_save(installation)
        reinstalled = await reopen_workspaces(
            self._sessions,
            team_id=installation.team_id,
            enterprise_id=installation.enterprise_id,
            org_wide=bool(installation.is_enterprise_install),
        )
        if installation.is_enterprise_install:
            self._forget_org(installation.enterprise_id)
        elif installation.team_id:
            await self._remember(
                installation.team_id, installation.enterprise_id, name=installation.team_name
            )
        return reinstalled > 0

    def _forget_org(self, enterprise_id: str | None) -> None:
        """An org installed (again): its workspaces are recorded afresh on their next request,
        in case a purge deleted them since this process last saw them."""
        self._known = {team: org for team, org in self._known.items() if org != enterprise_id}

    async def _remember(
        self, team_id: str, enterprise_id: str | None, *, name: str | None = None
    ) -> None:
        if team_id in self._known and self._known[team_id] == enterprise_id and name is None:
            return
        now = self._clock()
        values: dict[str, object] = {"enterprise_id": enterprise_id}
        if name:
            values["name"] = name[:200]
        async with self._sessions() as session, session.begin():
            await insert_ignoring_duplicates(
                session,
                Workspace,
                {"team_id": team_id, "active": True, "created_at": now, **values},
            )
            await session.execute(
                update(Workspace).where(Workspace.team_id == team_id).values(values)
            )
        self._known[team_id] = enterprise_id

    # --- rotating tokens -------------------------------------------------------------------

    async def _fresh(self, bot: Bot) -> Bot:
        """Refresh a rotating bot token that expires within REFRESH_BEFORE, and keep the new one.

        When Slack refuses the refresh or can't be reached, the old token is used while it
        lasts, the failure is logged (Slack's error code, or the kind of network error, only),
        and this process asks again after REFRESH_HOLD_OFF."""
        expires_at = bot.bot_token_expires_at
        if not bot.bot_refresh_token or expires_at is None or self.store is None:
            return bot
        expires = datetime.fromtimestamp(expires_at, UTC)
        now = self._clock()
        if expires - now > REFRESH_BEFORE:
            return bot
        refused = self._refused.get(bot.bot_refresh_token)
        if refused is not None and now - refused < REFRESH_HOLD_OFF:
            return bot
        client = self._clients.plain()
        try:
            answer = await client.oauth_v2_access(
                client_id=self._settings.slack_client_id or "",
                client_secret=self._settings.slack_client_secret or "",
                grant_type="refresh_token",
                refresh_token=bot.bot_refresh_token,
            )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as error:
            self._refused[bot.bot_refresh_token] = now
            why = (
                error.response.get("error")
                if isinstance(error, SlackApiError)
                else type(error).__name__
            )
            logger.warning(
                "refreshing the bot token for %s failed: %s", bot.team_id or bot.enterprise_id, why
            )
            return bot
        refreshed = copy.copy(bot)
        refreshed.bot_token = str(answer["access_token"])  # always there when Slack says ok
        refreshed.bot_refresh_token = answer.get("refresh_token") or bot.bot_refresh_token
        refreshed.bot_token_expires_at = int(self._clock().timestamp()) + int(
            answer.get("expires_in") or 0
        )
        await self.store.async_save_bot(refreshed)
        return refreshed
