"""The App Home tab: published on open (`bot.services.home`), with a welcome DM the first time."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import org_of


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.event("app_home_opened")
    @guard
    @ctx.in_flight.track
    async def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        team_id, user_id = body.get("team_id", ""), event["user"]
        client = await ctx.client_for(team_id, org_of(body))
        opened = await ctx.home.opened(team_id, user_id, client)
        if opened is not None and opened.welcome and client is not None:
            await client.chat_postMessage(
                channel=user_id, **blocks.welcome(ctx.library, opened.subscribed).as_kwargs()
            )
