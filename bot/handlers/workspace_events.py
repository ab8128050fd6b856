"""`app_uninstalled` and `tokens_revoked`: stop every schedule of that workspace."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.services.workspaces import stop_workspace

logger = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.event("app_uninstalled")
    @guard
    @ctx.in_flight.track
    async def app_uninstalled(body: dict[str, Any]) -> None:
        await _stop(ctx, body.get("team_id", ""), "app_uninstalled")

    @app.event("tokens_revoked")
    @guard
    @ctx.in_flight.track
    async def tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            await _stop(ctx, body.get("team_id", ""), "tokens_revoked")


async def _stop(ctx: AppContext, team_id: str, reason: str) -> None:
    stopped = await stop_workspace(ctx.sessions, team_id, reason, ctx.clock())
    logger.info("workspace %s: %s, %d schedules stopped", team_id, reason, stopped)
