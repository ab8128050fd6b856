"""The "Another" button: replace the message with the next item of the same kind."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import answer_button, who
from bot.services.rotation import KINDS

logger = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.action(blocks.ANOTHER_ACTION)
    @guard
    @ctx.in_flight.track
    async def another_item(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        team_id, user_id = who(body)
        kind = body["actions"][0].get("value")
        try:
            pick = await ctx.rotation.next_item(team_id, user_id, kind if kind in KINDS else None)
            message = blocks.content_item(ctx.library, pick.kind, pick.item)
        except Exception:
            logger.exception("Another button failed for %s/%s", team_id, user_id)
            message = blocks.something_went_wrong()
            await answer_button(respond, replace_original=False, **message.as_kwargs())
            return
        await answer_button(respond, replace_original=True, **message.as_kwargs())
