"""Buttons on a weekly nudge and on the "how often?" question. Each counts as a response."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import answer_button, org_of, who, whole_number
from bot.services.subscriptions import NotSubscribed
from bot.values import NudgeChoice

logger = logging.getLogger(__name__)

# action → (what Subscriptions does, headline)
CHOICES: dict[str, tuple[NudgeChoice, str]] = {
    blocks.NUDGE_SNOOZE_ACTION: (NudgeChoice.SNOOZE, "Snoozed for a week."),
    blocks.NUDGE_SKIP_ACTION: (NudgeChoice.SKIP, "Skipped. No need to reflect on this one."),
    blocks.BACKOFF_WEEKLY_ACTION: (NudgeChoice.WEEKLY, "Weekly it is."),
    blocks.BACKOFF_FORTNIGHTLY_ACTION: (NudgeChoice.FORTNIGHTLY, "Every 2 weeks it is."),
    blocks.BACKOFF_PAUSE_ACTION: (NudgeChoice.PAUSE_A_MONTH, "Paused for a month."),
}


def register(app: AsyncApp, ctx: AppContext) -> None:
    async def on_choice(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        action = body["actions"][0]
        team_id, user_id = who(body)
        choice, headline = CHOICES[action["action_id"]]
        delivery_id = whole_number(action.get("value"))
        if delivery_id is None:  # not a value this app put on a button
            message = blocks.button_not_understood()
            await answer_button(respond, replace_original=False, **message.as_kwargs())
            return
        client = await ctx.client_for(team_id, org_of(body))
        try:
            view = await ctx.subscriptions.choose_on_nudge(
                team_id, user_id, delivery_id, choice, client
            )
            message = blocks.schedule_reply(view, headline)
        except NotSubscribed:
            message = blocks.not_subscribed("change")
        except Exception:
            logger.exception(
                "nudge button %s failed for %s/%s", action["action_id"], team_id, user_id
            )
            message = blocks.something_went_wrong()
        await answer_button(respond, replace_original=False, **message.as_kwargs())
        await ctx.home.refresh(team_id, user_id, client)

    for action_id in CHOICES:
        app.action(action_id)(guard(ctx.in_flight.track(on_choice)))
