"""What each `/leading-tip` word answers, for the slash command and the DM alike.

One service call each, drawn with `bot.blocks`; no Bolt here. `answer` routes a parsed request
to its word and never raises: a failure answers "something went wrong".
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot import blocks
from bot.commands import COHORT_OFF, CONTENT_WORDS, ParsedCommand, closest_word, mentioned_user
from bot.schedule_words import WEEKLY_EXAMPLE, WordsError, parse_weekly
from bot.services.cohorts import CannotSeeChannel, NotACohort, NotAllowed, NotInAChannel
from bot.services.focus import UnknownCapability
from bot.services.previews import PreviewNotAllowed
from bot.services.subscriptions import NotSubscribed
from bot.values import ExportOutcome

if TYPE_CHECKING:
    from bot.app_context import AppContext

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlashRequest:
    team_id: str
    user_id: str
    channel_id: str
    parsed: ParsedCommand
    enterprise_id: str | None = None  # the Enterprise Grid org, if any


Route = Callable[["AppContext", SlashRequest], Awaitable[blocks.Message]]


async def content_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    pick = await ctx.rotation.next_item(request.team_id, request.user_id, request.parsed.word)
    return blocks.content_item(ctx.library, pick.kind, pick.item)


async def focus_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`focus`: the capabilities and the person's focus; `focus <name>` chooses theirs."""
    words = " ".join(request.parsed.args)
    if not words or len(ctx.library.capabilities) == 1:
        current = await ctx.focus.current(request.team_id, request.user_id)
        return blocks.focus_list(ctx.library, current)
    try:
        chosen = await ctx.focus.choose(request.team_id, request.user_id, words)
    except UnknownCapability:
        return blocks.focus_unknown(words)
    return blocks.focus_chosen(chosen)


async def help_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    if request.parsed.is_unknown:
        typed = request.parsed.typed
        return blocks.help_message(ctx.library, typed=typed, suggestion=closest_word(typed))
    return blocks.help_message(ctx.library)


async def weekly_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`weekly [day] [HH:MM]`: subscribe, or change the day and time."""
    try:
        choice = parse_weekly(request.parsed.args)
    except WordsError as error:
        return blocks.correction(error.message)
    client = await ctx.client_for(request.team_id, request.enterprise_id)
    view = await ctx.subscriptions.subscribe(request.team_id, request.user_id, choice, client)
    return blocks.subscribed(view)


async def pause_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`pause [N]` or `pause until YYYY-MM-DD`."""
    client = await ctx.client_for(request.team_id, request.enterprise_id)
    try:
        view = await ctx.subscriptions.pause_in_words(
            request.team_id, request.user_id, request.parsed.args, client
        )
    except WordsError as error:
        return blocks.correction(error.message)
    except NotSubscribed:
        return blocks.not_subscribed("pause")
    return blocks.paused(view)


async def resume_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`resume`: the weekly nudge starts again from the next slot."""
    client = await ctx.client_for(request.team_id, request.enterprise_id)
    try:
        view = await ctx.subscriptions.resume(request.team_id, request.user_id, client)
    except NotSubscribed:
        return blocks.not_subscribed("resume")
    return blocks.resumed(view)


async def stop_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`stop`: no more weekly nudges."""
    try:
        await ctx.subscriptions.stop(request.team_id, request.user_id)
    except NotSubscribed:
        return blocks.not_subscribed("stop")
    return blocks.stopped()


async def journal_page(
    ctx: AppContext, team_id: str, user_id: str, offset: int = 0
) -> blocks.Message:
    """A person's own reflections, ten at a time (the command, its Older button, Home)."""
    entries, has_more = await ctx.reflections.page(team_id, user_id, offset=offset)
    zone = ctx.zone(await ctx.reflections.zone_name(team_id, user_id))
    return blocks.journal(ctx.library, entries, zone, offset, has_more)


async def journal_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    return await journal_page(ctx, request.team_id, request.user_id)


async def export_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`export`: every reflection, as a Markdown file in the person's DM."""
    return await export_for(ctx, request.team_id, request.user_id, request.enterprise_id)


async def export_for(
    ctx: AppContext, team_id: str, user_id: str, enterprise_id: str | None
) -> blocks.Message:
    """The export, by command or by a season summary's button; the answer to show."""
    client = await ctx.client_for(team_id, enterprise_id)
    outcome = await ctx.export.send(team_id, user_id, client)
    if outcome is ExportOutcome.EMPTY:
        return blocks.export_empty()
    if outcome is ExportOutcome.NO_CLIENT:
        return blocks.something_went_wrong()
    return blocks.export_sent()


async def forget_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`forget`: delete everything about the person, only after they confirm."""
    return blocks.forget_confirm()


async def stats_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`stats`: in a cohort's channel, that cohort's figures for its leads and admins; anywhere
    else, workspace figures for admins and owners. Counts, never text or names."""
    client = await ctx.client_for(request.team_id, request.enterprise_id)
    try:
        cohort = await ctx.cohorts.figures_for(
            request.team_id, request.channel_id, request.user_id, client, ctx.zone(None)
        )
    except NotAllowed:
        return blocks.cohort_figures_refused()
    if cohort is not None:
        return blocks.cohort_figures(ctx.library, cohort)
    figures = await ctx.insights.figures_for(
        request.team_id, request.user_id, client, ctx.settings.admin_ids, ctx.zone(None)
    )
    if figures is None:
        return blocks.figures_refused()
    return blocks.workspace_figures(ctx.library, figures)


async def cohort_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`cohort [day] [time]`, `cohort off`, `cohort lead @someone`, `cohort practice on|off` or
    `cohort focus <name>`, typed in a channel."""
    args = request.parsed.args
    first = args[0].lower() if args else ""
    client = await ctx.client_for(request.team_id, request.enterprise_id)
    if client is None:
        return blocks.something_went_wrong()
    where = (request.team_id, request.channel_id, request.user_id)
    try:
        if first in COHORT_OFF and len(args) == 1:
            await ctx.cohorts.end(*where, client)
            return blocks.cohort_ended()
        if first == "practice":
            turn = args[1].lower() if len(args) == 2 else ""
            if turn not in ("on", "off"):
                return blocks.practice_words()
            practice = await ctx.cohort_practice.turn(*where, turn == "on", client)
            return blocks.practice_settled(practice)
        if first == "lead":
            lead_id = mentioned_user(args[1]) if len(args) == 2 else None
            if lead_id is None:
                return blocks.correction(
                    "Name one person after `lead`, e.g. `/leading-tip cohort lead @Aroha`."
                )
            await ctx.cohorts.name_lead(*where, lead_id, client)
            return blocks.cohort_lead_named(lead_id)
        if first == "focus":
            words = " ".join(args[1:])
            capability = ctx.library.find_capability(words)
            if capability is None:
                return blocks.focus_unknown(words) if words else blocks.correction(COHORT_FOCUS)
            await ctx.cohorts.set_focus(*where, capability.id, client)
            return blocks.cohort_focus_set(capability)
        choice = parse_weekly(args) if args else None  # a live cohort keeps its day and time
        settled = await ctx.cohorts.start(*where, choice, client)
    except WordsError as error:
        # The day-and-time words are the weekly ones; their example is the cohort's here.
        message = error.message.replace(WEEKLY_EXAMPLE, blocks.COHORT_EXAMPLE)
        return blocks.correction(message.replace("weekly tip", "cohort's nudge"))
    except NotInAChannel:
        return blocks.cohort_not_in_channel()
    except NotAllowed:
        return blocks.cohort_refused()
    except NotACohort:
        return blocks.not_a_cohort()
    except CannotSeeChannel as error:
        return blocks.cohort_cannot_see_channel(error.missing_scope)
    return blocks.cohort_settled(settled)


COHORT_FOCUS = (
    "Name a capability after `focus`, e.g. `/leading-tip cohort focus listening`. "
    "Type `/leading-tip focus` to see them."
)


async def preview_reply(ctx: AppContext, request: SlashRequest) -> blocks.Message:
    """`preview`: one of every message to the asker's own DM, for admins and cohort leads."""
    client = await ctx.client_for(request.team_id, request.enterprise_id)
    if client is None:
        return blocks.something_went_wrong()
    try:
        count = await ctx.previews.send(
            request.team_id, request.user_id, request.channel_id, client
        )
    except PreviewNotAllowed:
        return blocks.preview_refused()
    return blocks.preview_sent(count)


ROUTES: dict[str | None, Route] = {
    None: content_reply,
    **dict.fromkeys(CONTENT_WORDS, content_reply),
    "help": help_reply,
    "unknown": help_reply,
    "weekly": weekly_reply,
    "pause": pause_reply,
    "resume": resume_reply,
    "stop": stop_reply,
    "journal": journal_reply,
    "export": export_reply,
    "forget": forget_reply,
    "stats": stats_reply,
    "cohort": cohort_reply,
    "focus": focus_reply,
    "preview": preview_reply,
}
# These call the Slack Web API, so the slash command answers them after the ack.
ANSWER_AFTER_ACK = frozenset({"weekly", "pause", "resume", "export", "stats", "cohort", "preview"})
# These change what the person's Home tab shows.
CHANGES_HOME = frozenset(
    {None, *CONTENT_WORDS, "weekly", "pause", "resume", "stop", "cohort", "focus"}
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
