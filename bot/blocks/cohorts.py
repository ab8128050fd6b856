"""A cohort: the DMs its members get, the replies to `/leading-tip cohort`, and the weekly
practice post, the one thing ever posted in the channel (when its leads turn it on)."""

from __future__ import annotations

from bot.blocks.common import Message, _context, _next_line, _rhythm, _section, plain
from bot.content import KIND_LABELS, Item, Library
from bot.values import CohortIntro, CohortSettled, PracticeSettled, format_time, weekday_name

COHORT_EXAMPLE = "`/leading-tip cohort tue 9am`"
PRACTICE_EXAMPLE = "`/leading-tip cohort practice on` (or `off`)"
CHANNEL_NOT_KEPT = (
    "Replies here are seen by everyone in the channel and aren't kept as reflections. For a "
    "private reflection, reply to your own weekly nudge in your DM with me."
)
CHANGE_LINE = (
    "Change the day or time with `/leading-tip weekly` (e.g. `weekly thu 8:30`) or on the Home "
    "tab, or type `/leading-tip pause` or `/leading-tip stop`. Nothing about you is posted in "
    "the channel."
)


def channel_link(channel_id: str) -> str:
    """A link to the channel; a preview with no cohort yet shows where the name would go."""
    return f"<#{channel_id}>" if channel_id else "#your-cohort"


def cohort_intro(library: Library, intro: CohortIntro) -> Message:
    """The one DM a member gets on joining a cohort."""
    several = len(library.capabilities) > 1
    practising = "" if several else f" *{library.capabilities[0].title}*"
    when = (
        "You already get a weekly nudge from me, so it stays on the day and time you chose."
        if intro.own_schedule
        else "You'll get a weekly nudge from me at the cohort's time, in your own time zone."
    )
    channel = channel_link(intro.channel_id)
    text = (
        f"Kia ora. {channel} is practising{practising} together, from "
        f"{library.attribution.framework}. Each week I'll send you one small thing to try and a "
        f"question to reflect on.\n{when}"
    )
    privacy = (
        "Reply to a nudge to keep a private reflection. It's yours: admins and the cohort's "
        "leads only ever see counts, never your words. Please keep patient details out of "
        "your reflections."
    )
    blocks = [_section(text)]
    if intro.view.subscribed:
        blocks.append(_section(f"{_rhythm(intro.view)}. {_next_line(intro.view)}"))
    blocks += [_section(privacy), _context(CHANGE_LINE)]
    return Message(
        text=f"Kia ora. {channel_link(intro.channel_id)} is practising together.", blocks=blocks
    )


def cohort_ended_dm(channel_id: str) -> Message:
    return plain(
        f"The cohort in {channel_link(channel_id)} has ended, so the weekly nudge it set for "
        "you has stopped. Your reflections stay yours. To keep going on your own, type "
        "`/leading-tip weekly`."
    )


def cohort_settled(settled: CohortSettled) -> Message:
    when = f"{weekday_name(settled.weekday)} at {format_time(settled.local_time)}"
    if settled.changed:
        headline = (
            f"This cohort's nudge is now on {when}, in each member's own time zone. People "
            "who chose their own day and time keep theirs."
        )
    elif settled.already:
        headline = (
            f"This channel is already a cohort, with its nudge on {when} in each member's own "
            "time zone. Anyone here it hadn't reached has been enrolled now."
        )
    else:
        headline = (
            f"This channel is now a cohort. Everyone in it gets one short private message "
            f"from me, and a weekly nudge on {when} in their own time zone, unless they had "
            "already chosen their own or had stopped. People who join later get the same; "
            "people who leave stop getting it."
        )
    follow = (
        "Nothing about anyone is posted in the channel. `/leading-tip stats` here shows the "
        "cohort's figures, `/leading-tip cohort lead @someone` names another lead, "
        "`/leading-tip cohort practice on` posts one practice idea here each week for the group "
        "to talk over, and `/leading-tip cohort off` ends it."
    )
    return Message(text=headline, blocks=[_section(headline), _context(follow)])


def cohort_ended() -> Message:
    return plain(
        "This cohort has ended. The nudges it set have stopped, and their people have been "
        "told privately; anyone who chose their own day and time keeps it."
    )


def cohort_lead_named(lead_id: str) -> Message:
    return plain(
        f"<@{lead_id}> is now a lead of this cohort: they can change it, end it and see its "
        "figures."
    )


def cohort_refused() -> Message:
    return plain(
        "Cohorts are started and changed by workspace admins and the cohort's leads, so "
        "nothing was changed. If you'd like this channel to be one, ask one of your admins."
    )


def cohort_not_in_channel() -> Message:
    return plain(
        f"Run {COHORT_EXAMPLE} in the channel you'd like to make a cohort. Nothing was changed."
    )


def cohort_cannot_see_channel(missing_scope: bool) -> Message:
    if missing_scope:
        return plain(
            "I need permission to see who is in channels before I can run a cohort. Ask an "
            "admin to reinstall Leading Health (it asks for channels:read and groups:read), "
            "then try again. Nothing was changed."
        )
    return plain(
        "Please add me to this channel first, so I know who joins and leaves: type "
        f"`/invite @Leading Health`, then {COHORT_EXAMPLE} again. Nothing was changed."
    )


def cohort_modal_error(refusal: str) -> str:
    """Why the "Start a cohort" modal could not start one, under its channel picker."""
    return {
        "not_allowed": "Cohorts are started by workspace admins and cohort leads, so nothing "
        "was changed.",
        "not_a_channel": "Choose a channel, not a direct message.",
        "not_in_channel": "Please add me to that channel first (type /invite @Leading Health "
        "in it), then try again.",
        "missing_scope": "I need permission to see who is in channels. Ask an admin to "
        "reinstall Leading Health, then try again.",
    }.get(refusal, "Choose a channel to make a cohort.")


def not_a_cohort() -> Message:
    return plain(
        f"This channel isn't a cohort, so nothing was changed. {COHORT_EXAMPLE} makes it one."
    )


def cohort_practice_post(library: Library, item: Item) -> Message:
    """The weekly post in a cohort's channel: one practice idea for the group's thread."""
    capability = library.capability(item.capability_id)
    blocks = [
        _section("*This week's practice for the group*"),
        _context(f"{capability.group} · *{capability.title}*"),
        _section(f"*{KIND_LABELS[item.kind]}*\n{item.text}"),
    ]
    if item.this_week:
        blocks.append(_section(f"*This week:* {item.this_week}"))
    blocks += [
        _section(
            "Talk it over in this thread: how might you try it in your own work, and what "
            "would make it easier?"
        ),
        _context(CHANNEL_NOT_KEPT),
        _context(library.attribution.context_line),
    ]
    return Message(text=f"This week's practice for the group: {item.text}", blocks=blocks)


def practice_settled(settled: PracticeSettled) -> Message:
    if not settled.on:
        return plain(
            "Practice posts are off for this channel. The weekly nudges carry on as they are."
        )
    when = f"{weekday_name(settled.weekday)} at {format_time(settled.local_time)}"
    return plain(
        f"Practice posts are on. Each {when} ({settled.zone} time) I'll post one practice "
        "idea here for the group to talk over in its thread. Replies in the channel are seen "
        "by everyone here and aren't kept as reflections."
    )


def practice_words() -> Message:
    return plain(f"Type {PRACTICE_EXAMPLE} in the cohort's channel. Nothing was changed.")
