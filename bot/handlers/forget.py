"""`/leading-tip forget`: delete everything about the person, only after they confirm."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.app_home import publish_home
from bot.handlers.guard import guard
from bot.handlers.payload import answer_button, who
from bot.handlers.slash import SlashRequest

logger = logging.getLogger(__name__)


async def reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    return blocks.forget_confirm()


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.action(blocks.FORGET_CONFIRM_ACTION)
    @guard
    @ctx.in_flight.track
    async def confirm(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        team_id, user_id = who(body)
        had_home = False
        try:
            had_home = await ctx.insights.has_opened_home(team_id, user_id)
            report = await ctx.reflections.forget(team_id, user_id)
            message = blocks.forget_done(report)
        except Exception:
            logger.exception("forget failed for %s/%s", team_id, user_id)
            message = blocks.something_went_wrong()
        await answer_button(respond, replace_original=True, **message.as_kwargs())
        if had_home:  # show the emptied Home, without remembering they opened it
            await publish_home(ctx, team_id, user_id)

    @app.action(blocks.FORGET_CANCEL_ACTION)
    @guard
    @ctx.in_flight.track
    async def cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        message = blocks.forget_cancelled()
        await answer_button(respond, replace_original=True, **message.as_kwargs())
