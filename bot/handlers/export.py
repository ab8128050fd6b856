"""`/leading-tip export`: every reflection, as a Markdown file in the person's DM."""

from __future__ import annotations

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.slash import SlashRequest


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    entries = await ctx.reflections.everything(request.team_id, request.user_id)
    if not entries:
        return blocks.export_empty()
    client = await ctx.client_for(request.team_id)
    if client is None:
        return blocks.something_went_wrong()
    now = ctx.clock()
    zone = ctx.zone(await ctx.reflections.zone_name(request.team_id, request.user_id))
    content = blocks.export_markdown(ctx.library, entries, zone, now)
    opened = await client.conversations_open(users=request.user_id)
    await client.files_upload_v2(
        channel=opened["channel"]["id"],
        content=content,
        filename=f"leading-health-reflections-{now.astimezone(zone):%Y-%m-%d}.md",
        title="My reflections: Leading Health nudges",
        initial_comment="Here are your reflections, as you asked.",
    )
    return blocks.export_sent()
