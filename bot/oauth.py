"""Multi-workspace mode: Bolt's OAuth install flow with our pages, and Bolt's authorize step
answered by `Installations` (the same look-up, token refresh and Grid rules the scheduler uses).

Bolt glue only: what an install is and how tokens are kept lives in
`bot.services.installations`.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import pages
from bot.content import Library
from bot.db import retrying
from bot.logs import error_kinds, keep_oauth_secrets_out
from bot.manifest import BOT_SCOPES, REDIRECT_PATH
from bot.services.installations import REFRESH_BEFORE, STATE_SECONDS, Installations, Place

# Bolt's flow logs the install's code when Slack refuses it: the filter keeps it out.
logger = keep_oauth_secrets_out(logging.getLogger(__name__))

INSTALL_PATH = "/slack/install"
_HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}


class InstallsAuthorize(AsyncAuthorize):
    """Which bot token answers this request: the workspace's install, else its org's."""

    def __init__(self, installations: Installations) -> None:
        self._installations = installations

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: Any,
    ) -> AuthorizeResult | None:
        # A modal of an org-wide install names the org as the team it was installed in
        # (`view.app_installed_team_id`), which Bolt reads as the team: that is no workspace.
        workspace = None if team_id == enterprise_id else team_id
        place = Place(workspace, enterprise_id, bool(context.is_enterprise_install))
        bot = await retrying(lambda: self._installations.bot_for(place), "finding an install")
        if bot is None or not bot.bot_token:
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id or bot.enterprise_id,
            team_id=team_id or bot.team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id,
        )


class InstallFlow(AsyncOAuthFlow):
    """Bolt's flow (state in our database, checked against the browser's cookie), our pages,
    and installs saved through `Installations` (encrypted; the workspace marked installed)."""

    def __init__(
        self,
        *,
        client: AsyncWebClient,
        settings: AsyncOAuthSettings,
        installations: Installations,
        library: Library,
    ) -> None:
        super().__init__(client=client, logger=logger, settings=settings)
        self._installations = installations
        self._library = library

    async def handle_installation(self, request: AsyncBoltRequest) -> BoltResponse:
        """The install page; when its state can't be written, our page saying try again."""
        try:
            return await super().handle_installation(request)
        except SQLAlchemyError as error:
            logger.error("starting an install failed: %s", error_kinds(error))
            return _failure_response("unavailable")

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        return pages.install_page(self._library, url)

    async def run_installation(self, code: str) -> Installation | None:
        """Bolt's exchange of the code for tokens; Slack out of reach is a failed install
        (Bolt's failure page path), not an error page."""
        try:
            return await super().run_installation(code)
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not reach Slack to finish an install: %s", type(error).__name__)
            return None

    async def store_installation(
        self, request: AsyncBoltRequest, installation: Installation
    ) -> None:
        try:
            await retrying(lambda: self._installations.save(installation), "saving an install")
        except SQLAlchemyError as error:
            logger.error("saving an install failed: %s", type(error).__name__)
            raise BoltError("the install could not be saved") from None


def _failure_response(reason: str) -> BoltResponse:
    html = pages.failure_page(reason, INSTALL_PATH)
    return BoltResponse(status=failure_status(reason), body=html, headers=dict(_HTML))


def failure_status(reason: str) -> int:
    """Cancelling in Slack is a choice, not an error (200); our database failing is ours (503,
    try again); anything else is a link that can't finish an install (400). Bolt suggests 401
    for some, but nothing here asks the browser to authenticate."""
    if reason == "access_denied":
        return 200
    if reason in ("storage_error", "unavailable"):
        return 503
    return 400


def build_install_flow(
    *,
    client: AsyncWebClient,
    client_id: str,
    client_secret: str,
    installations: Installations,
    library: Library,
) -> InstallFlow:
    async def success(args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        workspace = installation.team_name or installation.enterprise_name
        app_link = None
        if installation.app_id and installation.team_id:
            app_link = (
                f"https://slack.com/app_redirect?app={installation.app_id}"
                f"&team={installation.team_id}"
            )
        html = pages.success_page(library, workspace, app_link)
        return BoltResponse(status=200, body=html, headers=dict(_HTML))

    async def failure(args: AsyncFailureArgs) -> BoltResponse:
        # The reason is Bolt's word for what went wrong (never a code, token or state value).
        logger.warning("an install did not finish: %s", args.reason)
        return _failure_response(args.reason)

    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=AsyncCallbackOptions(success=success, failure=failure),
        installation_store=installations.store,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=int(REFRESH_BEFORE.total_seconds() // 60),
        state_store=installations.state_store,
        state_expiration_seconds=STATE_SECONDS,
        logger=logger,
    )
    return InstallFlow(
        client=client, settings=settings, installations=installations, library=library
    )
