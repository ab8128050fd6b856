"""The App Home tab: published on open, and again whenever something on it changes."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard

logger = logging.getLogger(__name__)
LATEST_ON_HOME = 3


async def publish_home(ctx: AppContext, team_id: str, user_id: str) -> bool | None:
    """Publish the Home view; whether the person is subscribed, or None if Slack refused it."""
    client = await ctx.client_for(team_id)
    if client is None:
        return False
    view = await ctx.subscriptions.view(team_id, user_id)
    zone = ctx.zone(view.zone)
    progress = await ctx.insights.progress(team_id, user_id, zone)
    latest, _ = await ctx.reflections.page(team_id, user_id, limit=LATEST_ON_HOME)
    today = ctx.clock().astimezone(zone).date()
    home = blocks.home_view(ctx.library, view, progress, latest, zone, today)
    try:
        await client.views_publish(user_id=user_id, view=home)
    except SlackApiError as error:  # e.g. user_not_found: no one to show it to
        reason = error.response.get("error")
        logger.warning("could not publish Home for %s/%s: %s", team_id, user_id, reason)
        return None
    return view.subscribed


async def refresh_home(
    ctx: AppContext, team_id: str, user_id: str, *, always: bool = False
) -> None:
    """Keep Home true after a change; only for people who have opened it, unless `always`."""
    try:
        if always or await ctx.insights.has_opened_home(team_id, user_id):
            await publish_home(ctx, team_id, user_id)
    except Exception:
        logger.exception("refreshing Home failed for %s/%s", team_id, user_id)


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.event("app_home_opened")
    @guard
    @ctx.in_flight.track
    async def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        team_id, user_id = body.get("team_id", ""), event["user"]
        subscribed = await publish_home(ctx, team_id, user_id)
        if subscribed is None:
            return
        # Marked only after Home was shown: if publishing failed, the next open tries again.
        if await ctx.insights.first_home_open(team_id, user_id):
            client = await ctx.client_for(team_id)
            if client is not None:
                await client.chat_postMessage(
                    channel=user_id, **blocks.welcome(ctx.library, subscribed).as_kwargs()
                )
