"""`/leading-tip stats`: workspace figures for admins and owners. Counts, never text or names."""

from __future__ import annotations

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.slash import SlashRequest
from bot.services.profiles import may_see_figures


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    client = await ctx.client_for(request.team_id)
    if not await may_see_figures(client, request.user_id, ctx.settings.admin_ids):
        return blocks.figures_refused()
    figures = await ctx.insights.workspace(request.team_id, ctx.zone(None))
    return blocks.workspace_figures(ctx.library, figures)
