"""`/leading-tip weekly [day] [HH:MM]`: subscribe, or change the day and time."""

from __future__ import annotations

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.slash import SlashRequest
from bot.schedule_words import WordsError, parse_weekly


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    try:
        choice = parse_weekly(request.parsed.args)
    except WordsError as error:
        return blocks.correction(error.message)
    client = await ctx.client_for(request.team_id)
    view = await ctx.subscriptions.subscribe(request.team_id, request.user_id, choice, client)
    return blocks.subscribed(view)
