"""`/leading-tip journal` and its "Older" button: a person's own reflections, ten at a time."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import answer_button, who, whole_number
from bot.handlers.slash import SlashRequest


async def page(ctx: AppContext, team_id: str, user_id: str, offset: int = 0) -> blocks.Message:
    entries, has_more = await ctx.reflections.page(team_id, user_id, offset=offset)
    zone = ctx.zone(await ctx.reflections.zone_name(team_id, user_id))
    return blocks.journal(ctx.library, entries, zone, offset, has_more)


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    return await page(ctx, request.team_id, request.user_id)


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.action(blocks.JOURNAL_OLDER_ACTION)
    @guard
    @ctx.in_flight.track
    async def older(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        offset = whole_number(body["actions"][0].get("value"))
        if offset is None:
            message = blocks.button_not_understood()
        else:
            message = await page(ctx, *who(body), offset)
        await answer_button(respond, replace_original=True, **message.as_kwargs())
