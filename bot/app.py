"""The Bolt app: one client factory, signature checks, every listener registered."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import blocks
from bot.app_context import AppContext
from bot.handlers import register_listeners
from bot.oauth import InstallsAuthorize, build_install_flow
from bot.slack_client import make_client

logger = logging.getLogger(__name__)
bolt_logger = logging.getLogger("bot.bolt")


class _OurClientWins(logging.Filter):
    """Bolt also reads SLACK_BOT_TOKEN and warns that our client wins: that is the intent."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


bolt_logger.addFilter(_OurClientWins())


def create_bolt_app(ctx: AppContext) -> AsyncApp:
    settings = ctx.settings
    socket_mode = bool(settings.slack_app_token)
    client = make_client(settings, settings.slack_bot_token)
    multi: dict[str, Any] = {}
    if ctx.installations.multi_workspace:
        flow = build_install_flow(
            client=client,
            client_id=settings.slack_client_id or "",
            client_secret=settings.slack_client_secret or "",
            installations=ctx.installations,
            library=ctx.library,
        )
        multi = {
            "oauth_flow": flow,
            "oauth_settings": flow.settings,
            "authorize": InstallsAuthorize(ctx.installations),
            # A workspace with no install: Bolt answers this (a command or button, through its
            # response URL) and logs one line; the listeners never run.
            "user_facing_authorize_error_message": blocks.NOT_INSTALLED,
        }
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        request_verification_enabled=not socket_mode,
        logger=bolt_logger,
        **multi,
    )
    register_listeners(app, ctx)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # The kind of request and the team only: payloads can hold private text.
        kind = body.get("type") or body.get("command") or "request"
        team = (body.get("team") or {}).get("id") or body.get("team_id")
        logger.error("unhandled %s in a Slack %s from team %s", type(error).__name__, kind, team)

    return app
