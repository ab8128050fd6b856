"""`/leading-tip [words]`: parse the words and answer with `bot.replies`.

Content words answer inside the ack. Words that may ask Slack for the person's time zone ack
at once and answer through the response URL, so no Web API call sits before the ack.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.app_context import AppContext
from bot.commands import parse
from bot.handlers.guard import guard
from bot.handlers.payload import org_of
from bot.replies import ANSWER_AFTER_ACK, CHANGES_HOME, SlashRequest, answer
from bot.slack_text import unescape

COMMAND = "/leading-tip"


def slash_request(command: dict[str, Any]) -> SlashRequest:
    return SlashRequest(
        team_id=command.get("team_id", ""),
        user_id=command.get("user_id", ""),
        channel_id=command.get("channel_id", ""),
        parsed=parse(unescape(command.get("text") or "")),
        enterprise_id=org_of(command),
    )


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.command(COMMAND)
    @guard
    @ctx.in_flight.track
    async def leading_tip(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
        request = slash_request(command)
        if request.parsed.word in ANSWER_AFTER_ACK:
            await ack()
            message = await answer(ctx, request)
            await respond(response_type="ephemeral", **message.as_kwargs())
        else:
            message = await answer(ctx, request)
            await ack(response_type="ephemeral", **message.as_kwargs())
        if request.parsed.word in CHANGES_HOME:
            client = await ctx.client_for(request.team_id, request.enterprise_id)
            await ctx.home.refresh(request.team_id, request.user_id, client)
