"""`/leading-tip [words]`: parse the words, route to the word's reply, answer inside the ack."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import blocks
from bot.app_context import AppContext
from bot.commands import CONTENT_WORDS, LATER_WORDS, ParsedCommand, closest_word, parse

COMMAND = "/leading-tip"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlashRequest:
    team_id: str
    user_id: str
    channel_id: str
    parsed: ParsedCommand


Route = Callable[[AppContext, SlashRequest], Awaitable[blocks.Message]]


async def content_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    pick = await ctx.rotation.next_item(request.team_id, request.user_id, request.parsed.word)
    return blocks.content_item(ctx.library, pick.kind, pick.item)


async def help_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    if request.parsed.is_unknown:
        typed = request.parsed.typed
        return blocks.help_message(ctx.library, typed=typed, suggestion=closest_word(typed))
    return blocks.help_message(ctx.library)


async def not_yet_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    return blocks.not_available_yet(request.parsed.word or "")


ROUTES: dict[str | None, Route] = {
    None: content_reply,
    **dict.fromkeys(CONTENT_WORDS, content_reply),
    "help": help_reply,
    "unknown": help_reply,
    **dict.fromkeys(LATER_WORDS, not_yet_reply),
}


def slash_request(command: dict[str, Any]) -> SlashRequest:
    return SlashRequest(
        team_id=command.get("team_id", ""),
        user_id=command.get("user_id", ""),
        channel_id=command.get("channel_id", ""),
        parsed=parse(command.get("text")),
    )


async def answer(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    try:
        return await ROUTES[request.parsed.word](ctx, request)
    except Exception:
        # Never the typed text: it may be private. The ids are enough to find the person.
        logger.exception(
            "/leading-tip %s failed for %s/%s",
            request.parsed.word,
            request.team_id,
            request.user_id,
        )
        return blocks.something_went_wrong()


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.command(COMMAND)
    async def leading_tip(ack: AsyncAck, command: dict[str, Any]) -> None:
        message = await answer(ctx, slash_request(command))
        await ack(response_type="ephemeral", **message.as_kwargs())
