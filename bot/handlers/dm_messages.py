"""Messages in a person's DM with the app: reflections, their edits and deletions, or commands.

A reply in a nudge's thread answers that nudge; a top-level message within a week of the latest
nudge (or "how often?" question) answers it; anything else is a free journal entry, except a
reply in a preview's thread, which is never kept (the person is told so). `help`,
`pause`, `resume` and `stop` typed as the whole message act as the command instead.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import blocks
from bot.app_context import AppContext
from bot.commands import parse
from bot.handlers.guard import guard
from bot.handlers.payload import org_of
from bot.logs import log_failure
from bot.replies import SlashRequest, answer  # the same replies as the slash command
from bot.services.handled import first_time
from bot.services.reflections import ReflectionTooLong
from bot.slack_text import unescape

logger = logging.getLogger(__name__)

DM_COMMANDS = frozenset({"help", "pause", "resume", "stop"})


async def from_a_person_in_a_dm(event: dict[str, Any]) -> bool:
    return (
        event.get("channel_type") == "im"
        and bool(event.get("user"))
        and not event.get("bot_id")
        and not event.get("app_id")
    )


async def in_a_dm(event: dict[str, Any]) -> bool:
    return event.get("channel_type") == "im"


def as_command(text: str, thread_ts: str | None) -> bool:
    """Only the bare word, typed as its own top-level message: "Stop and listen more." in a
    thread is a reflection, not an unsubscribe."""
    return thread_ts is None and text.strip().strip(".!?").lower() in DM_COMMANDS


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.event({"type": "message", "subtype": None}, matchers=[from_a_person_in_a_dm])
    @guard
    @ctx.in_flight.track
    async def new_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id = body.get("team_id") or event.get("team", "")
        user_id, channel, text = event["user"], event["channel"], unescape(event.get("text") or "")
        org = org_of(body)
        client = await ctx.client_for(team_id, org)  # never raises: we can always say what happened
        if as_command(text, event.get("thread_ts")):
            if not await first_time(ctx.sessions, team_id, channel, event["ts"], ctx.clock()):
                return  # Slack's retry of a command already answered
            request = SlashRequest(team_id, user_id, channel, parse(text), org)
            message = await answer(ctx, request)
            if client is not None:
                await client.chat_postMessage(channel=channel, **message.as_kwargs())
            await ctx.home.refresh(team_id, user_id, client)
            return
        thread_ts = event.get("thread_ts")
        if (
            thread_ts
            and thread_ts != event["ts"]
            and client is not None
            and await ctx.previews.is_preview_thread(team_id, channel, thread_ts, client)
        ):
            await client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, **blocks.preview_reply_not_kept().as_kwargs()
            )
            return
        try:
            captured = await ctx.reflections.capture_dm(
                team_id, user_id, channel, event["ts"], event.get("thread_ts"), text
            )
        except ReflectionTooLong:
            logger.info(
                "reflection from %s/%s: too long, %d characters", team_id, user_id, len(text)
            )
            if client is not None:
                await client.chat_postMessage(
                    channel=channel,
                    thread_ts=event.get("thread_ts"),
                    **blocks.reflection_too_long().as_kwargs(),
                )
            return
        except Exception:
            # Slack has its ack, so nothing will resend this: tell the person, not just the log.
            log_failure(logger, "saving a reflection failed for %s/%s", team_id, user_id)
            if client is not None:
                await client.chat_postMessage(
                    channel=channel,
                    thread_ts=event.get("thread_ts"),
                    **blocks.reflection_not_saved().as_kwargs(),
                )
            return
        # Ids and counts only: what people write never goes to the logs.
        logger.info(
            "reflection from %s/%s: %s, %d characters",
            team_id,
            user_id,
            "saved" if captured.created else "already saved",
            len(text),
        )
        if captured.created and client is not None:
            await client.reactions_add(
                channel=channel, timestamp=event["ts"], name=blocks.SAVED_REACTION
            )
        if captured.created:
            await ctx.home.refresh(team_id, user_id, client)

    @app.event({"type": "message", "subtype": "message_changed"}, matchers=[in_a_dm])
    @guard
    @ctx.in_flight.track
    async def edited(event: dict[str, Any], body: dict[str, Any]) -> None:
        message = event.get("message") or {}
        team_id, user_id = body.get("team_id", ""), message.get("user")
        if message.get("ts") and user_id and not message.get("bot_id"):
            text = unescape(message.get("text") or "")
            try:
                changed = await ctx.reflections.edit_dm(
                    team_id, user_id, event["channel"], message["ts"], text
                )
            except ReflectionTooLong:
                client = await ctx.client_for(team_id, org_of(body))
                if client is not None:
                    await client.chat_postMessage(
                        channel=event["channel"],
                        thread_ts=message.get("thread_ts"),
                        **blocks.edit_too_long().as_kwargs(),
                    )
                return
            if changed:
                await ctx.home.refresh(
                    team_id, user_id, await ctx.client_for(team_id, org_of(body))
                )

    @app.event({"type": "message", "subtype": "message_deleted"}, matchers=[in_a_dm])
    @guard
    @ctx.in_flight.track
    async def deleted(event: dict[str, Any], body: dict[str, Any]) -> None:
        # Slack names the author on the deleted message; without one, nobody to act for.
        team_id = body.get("team_id", "")
        user_id = (event.get("previous_message") or {}).get("user")
        deleted_ts = event.get("deleted_ts")
        if not (deleted_ts and user_id):
            return
        if await ctx.reflections.delete_dm(team_id, user_id, event["channel"], deleted_ts):
            await ctx.home.refresh(team_id, user_id, await ctx.client_for(team_id, org_of(body)))
