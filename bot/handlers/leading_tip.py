"""`/leading-tip [words]`: parse the words and route each to the module named after it.

Content words answer inside the ack. Words that may ask Slack for the person's time zone ack
at once and answer through the response URL, so no Web API call sits before the ack.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import blocks
from bot.app_context import AppContext
from bot.commands import CONTENT_WORDS, closest_word
from bot.handlers import export, forget, journal, pause, resume, stats, stop, weekly
from bot.handlers.app_home import refresh_home
from bot.handlers.guard import guard
from bot.handlers.slash import Route, SlashRequest, slash_request

COMMAND = "/leading-tip"
logger = logging.getLogger(__name__)


async def content_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    pick = await ctx.rotation.next_item(request.team_id, request.user_id, request.parsed.word)
    return blocks.content_item(ctx.library, pick.kind, pick.item)


async def help_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    if request.parsed.is_unknown:
        typed = request.parsed.typed
        return blocks.help_message(ctx.library, typed=typed, suggestion=closest_word(typed))
    return blocks.help_message(ctx.library)


ROUTES: dict[str | None, Route] = {
    None: content_reply,
    **dict.fromkeys(CONTENT_WORDS, content_reply),
    "help": help_reply,
    "unknown": help_reply,
    "weekly": weekly.reply,
    "pause": pause.reply,
    "resume": resume.reply,
    "stop": stop.reply,
    "journal": journal.reply,
    "export": export.reply,
    "forget": forget.reply,
    "stats": stats.reply,
}
# These call the Slack Web API, so they answer after the ack, through the response URL.
ANSWER_AFTER_ACK = frozenset({"weekly", "pause", "resume", "export", "stats"})
# These change what the person's Home tab shows.
CHANGES_HOME = frozenset({None, *CONTENT_WORDS, "weekly", "pause", "resume", "stop"})


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
            await refresh_home(ctx, request.team_id, request.user_id)
