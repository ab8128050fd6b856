"""`/leading-tip stop`: no more weekly nudges."""

from __future__ import annotations

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.slash import SlashRequest
from bot.services.subscriptions import NotSubscribed


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    try:
        await ctx.subscriptions.stop(request.team_id, request.user_id)
    except NotSubscribed:
        return blocks.not_subscribed("stop")
    return blocks.stopped()
