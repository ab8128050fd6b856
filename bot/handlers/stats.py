"""`/leading-tip stats`: workspace figures for admins and owners. Counts, never text or names."""

from __future__ import annotations

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.slash import SlashRequest
from bot.services.profiles import is_workspace_admin


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    allowed = request.user_id in ctx.settings.admin_ids
    if not allowed:
        client = await ctx.client_for(request.team_id)
        allowed = client is not None and await is_workspace_admin(client, request.user_id)
    if not allowed:
        return blocks.figures_refused()
    figures = await ctx.insights.workspace(request.team_id, ctx.zone(None))
    return blocks.workspace_figures(ctx.library, figures)
