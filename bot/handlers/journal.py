"""The journal's "Older" button: a person's own reflections, ten at a time (`bot.replies`);
and a season summary's "Export my journal" button: the same export as the command."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import answer_button, org_of, who, whole_number
from bot.replies import export_for, journal_page


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
            message = await journal_page(ctx, *who(body), offset)
        await answer_button(respond, replace_original=True, **message.as_kwargs())

    @app.action(blocks.SEASON_EXPORT_ACTION)
    @guard
    @ctx.in_flight.track
    async def export(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        message = await export_for(ctx, *who(body), org_of(body))
        await answer_button(respond, replace_original=False, **message.as_kwargs())
