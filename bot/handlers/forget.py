"""The Forget confirmation's buttons: delete everything about the person, or not."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import answer_button, org_of, who


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.action(blocks.FORGET_CONFIRM_ACTION)
    @guard
    @ctx.in_flight.track
    async def confirm(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        team_id, user_id = who(body)
        forgotten = await ctx.home.forget(team_id, user_id)
        if forgotten.report is None:
            message = blocks.something_went_wrong()
        else:
            message = blocks.forget_done(forgotten.report)
        await answer_button(respond, replace_original=True, **message.as_kwargs())
        if forgotten.show_home:
            await ctx.home.publish(team_id, user_id, await ctx.client_for(team_id, org_of(body)))

    @app.action(blocks.FORGET_CANCEL_ACTION)
    @guard
    @ctx.in_flight.track
    async def cancel(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        message = blocks.forget_cancelled()
        await answer_button(respond, replace_original=True, **message.as_kwargs())
