"""The nudge's Reflect button opens a modal; submitting it stores the reflection."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import org_of, show_modal, state_text, who, whole_number
from bot.logs import log_failure
from bot.services.reflections import ModalReflectionTooLong

logger = logging.getLogger(__name__)


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.action(blocks.NUDGE_REFLECT_ACTION)
    @guard
    @ctx.in_flight.track
    async def open_modal(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        delivery_id = whole_number(body["actions"][0].get("value")) or 0  # 0: no nudge
        prompt = await ctx.reflections.reflect_prompt(team_id, user_id, delivery_id, ctx.library)
        view = blocks.reflection_modal(
            ctx.library, delivery_id, prompt.item, prompt.question, prompt.looking_back
        )
        client = await ctx.client_for(team_id, org_of(body))
        if client is not None:
            await show_modal(client, body["trigger_id"], view)

    @app.view(blocks.REFLECTION_MODAL)
    @guard
    @ctx.in_flight.track
    async def submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        text = state_text(view, blocks.REFLECTION_BLOCK, blocks.REFLECTION_INPUT)
        if not text.strip():
            await ack(
                response_action="errors", errors={blocks.REFLECTION_BLOCK: blocks.EMPTY_REFLECTION}
            )
            return
        delivery_id = whole_number(view.get("private_metadata")) or None
        team_id, user_id = who(body)
        try:
            await ctx.reflections.capture_modal(team_id, user_id, delivery_id, text)
        except ModalReflectionTooLong:
            await ack(
                response_action="errors", errors={blocks.REFLECTION_BLOCK: blocks.LONG_REFLECTION}
            )
            return
        except Exception:
            log_failure(
                logger, "saving a reflection from the modal failed for %s/%s", team_id, user_id
            )
            await ack(
                response_action="errors",
                errors={blocks.REFLECTION_BLOCK: "Sorry, that didn't save. Please try again."},
            )
            return
        await ack()
        await ctx.home.refresh(team_id, user_id, await ctx.client_for(team_id, org_of(body)))
