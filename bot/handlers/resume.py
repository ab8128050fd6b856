"""`/leading-tip resume`: the weekly nudge starts again from the next slot."""

from __future__ import annotations

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.slash import SlashRequest
from bot.services.subscriptions import NotSubscribed


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    client = await ctx.client_for(request.team_id)
    try:
        view = await ctx.subscriptions.resume(request.team_id, request.user_id, client)
    except NotSubscribed:
        return blocks.not_subscribed("resume")
    return blocks.resumed(view)
