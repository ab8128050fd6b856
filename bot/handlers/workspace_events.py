"""`app_uninstalled` and `tokens_revoked`: stop the workspace's schedules and forget its tokens.

Bolt runs only the first listener matching an event, so in multi-workspace mode these do what
Bolt's built-in token-revocation listeners would (delete the installs), through
bot.services.uninstall. In single-workspace mode they stop every schedule of the workspace.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.services.installations import Place
from bot.services.uninstall import revoke_tokens, uninstall
from bot.services.workspaces import TOKENS_REVOKED, UNINSTALLED, stop_workspace

logger = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.event("app_uninstalled")
    @guard
    @ctx.in_flight.track
    async def app_uninstalled(body: dict[str, Any], context: AsyncBoltContext) -> None:
        if not ctx.installations.multi_workspace:
            await _stop(ctx, body.get("team_id", ""), UNINSTALLED)
            return
        place = _place(context)
        stopped = await uninstall(ctx.installations, ctx.sessions, place, ctx.clock())
        logger.info(
            "%s: app uninstalled, %d workspaces and %d schedules stopped",
            place.team_id or place.enterprise_id,
            stopped.workspaces,
            stopped.schedules,
        )

    @app.event("tokens_revoked")
    @guard
    @ctx.in_flight.track
    async def tokens_revoked(
        body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        tokens = event.get("tokens") or {}
        if not ctx.installations.multi_workspace:
            if tokens.get("bot"):
                await _stop(ctx, body.get("team_id", ""), TOKENS_REVOKED)
            return
        place = _place(context)
        stopped = await revoke_tokens(
            ctx.installations,
            ctx.sessions,
            place,
            user_ids=[str(user) for user in tokens.get("oauth") or []],
            bot=bool(tokens.get("bot")),
            now=ctx.clock(),
        )
        logger.info(
            "%s: tokens revoked, %d user tokens removed, %d schedules stopped",
            place.team_id or place.enterprise_id,
            stopped.user_tokens,
            stopped.schedules,
        )


def _place(context: AsyncBoltContext) -> Place:
    return Place(context.team_id, context.enterprise_id, bool(context.is_enterprise_install))


async def _stop(ctx: AppContext, team_id: str, reason: str) -> None:
    stopped = await stop_workspace(ctx.sessions, team_id, reason, ctx.clock())
    logger.info("workspace %s: %s, %d schedules stopped", team_id, reason, stopped)
