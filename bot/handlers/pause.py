"""`/leading-tip pause [N]` or `pause until YYYY-MM-DD`."""

from __future__ import annotations

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.slash import SlashRequest
from bot.schedule_words import WordsError, parse_pause
from bot.services.subscriptions import NotSubscribed


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    client = await ctx.client_for(request.team_id)
    current = await ctx.subscriptions.view(request.team_id, request.user_id, client)
    today = ctx.clock().astimezone(ctx.zone(current.zone)).date()  # "today" where they are
    try:
        choice = parse_pause(request.parsed.args, today)
    except WordsError as error:
        return blocks.correction(error.message)
    try:
        view = await ctx.subscriptions.pause(request.team_id, request.user_id, choice, client)
    except NotSubscribed:
        return blocks.not_subscribed("pause")
    return blocks.paused(view)
