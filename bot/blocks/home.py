"""App Home, the schedule modal, read-only modals and the welcome DM."""

from __future__ import annotations

from datetime import date, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.common import (
    MODAL_TITLE_LIMIT,
    OPTION_TEXT_LIMIT,
    Block,
    Message,
    _actions,
    _button,
    _context,
    _divider,
    _header,
    _next_line,
    _rhythm,
    _section,
    cut,
    local_date,
    long_date,
)
from bot.blocks.figures import cohort_figure_blocks
from bot.blocks.ids import (
    CHANNEL_BLOCK,
    CHANNEL_INPUT,
    COHORT_MODAL,
    DAY_BLOCK,
    DAY_INPUT,
    HOME_CHANGE_ACTION,
    HOME_COHORT_ACTION,
    HOME_FOCUS_ACTION,
    HOME_HOLIDAYS_ACTION,
    HOME_JOURNAL_ACTION,
    HOME_LOOK_BACK_ACTION,
    HOME_PAUSE_ACTION,
    HOME_RESUME_ACTION,
    HOME_STOP_ACTION,
    HOME_SUBSCRIBE_ACTION,
    HOME_TIP_ACTION,
    SCHEDULE_MODAL,
    TIME_BLOCK,
    TIME_INPUT,
)
from bot.calendar import NO_HOLIDAYS, region_choices, region_label
from bot.content import Capability, Library
from bot.slack_text import escape
from bot.values import (
    WEEKDAY_NAMES,
    Entry,
    HomeCohorts,
    Progress,
    ScheduleView,
    still_paused,
)

HOME_EXCERPT = 300

PLURAL_LABELS = {"tip": "Quick tips", "practice": "Practice ideas", "blocker": "Blockers"}


REINSTALLED_NOTE = (
    "*Your weekly nudge*\nNau mai anō, welcome back. Your weekly nudges stopped when this "
    "app was removed from the workspace, and they stay stopped until you subscribe again. "
    "Everything you wrote is still here."
)


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _holiday_menu(view: ScheduleView, default_region: str) -> Block:
    """Whose public holidays the nudge keeps to, and a menu to choose: New Zealand's regions,
    the workspace default, or none."""
    choices = region_choices(default_region, view.region)
    options = [
        {"text": _plain(cut(region_label(code), OPTION_TEXT_LIMIT)), "value": code}
        for code in choices
    ]
    if view.region == NO_HOLIDAYS:
        words = "No public holidays are set, so your nudge keeps to its day."
    else:
        where = (
            "a national public holiday"
            if view.region == "NZ"
            else f"a public holiday in {escape(region_label(view.region))}"
        )
        words = f"A nudge due on {where} moves to the next working day, at the same time."
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"*Public holidays*\n{words}"},
        "accessory": {
            "type": "static_select",
            "action_id": HOME_HOLIDAYS_ACTION,
            "options": options,
            "initial_option": options[choices.index(view.region)],
        },
    }


def _schedule_section(view: ScheduleView, today: date, default_region: str = "NZ") -> list[Block]:
    if view.status != "active":
        text = (
            "*Your weekly nudge*\nYou're not subscribed. Choose a day and time and I'll send "
            "you one small thing to practise each week, with a question to reflect on."
        )
        if view.stopped_by_removal:
            text = REINSTALLED_NOTE
        return [
            _section(text),
            _actions(_button("Subscribe", HOME_SUBSCRIBE_ACTION, "subscribe", style="primary")),
        ]
    lines = [f"*Your weekly nudge*\n{_rhythm(view)} ({view.zone})."]
    paused = still_paused(view.paused_until, today)
    if paused and view.paused_until is not None:
        lines.append(f"Paused until {long_date(view.paused_until)}.")
    lines.append(_next_line(view))
    buttons = [_button("Change", HOME_CHANGE_ACTION, "change")]
    if paused:
        buttons.append(_button("Resume", HOME_RESUME_ACTION, "resume", style="primary"))
    else:
        buttons.append(_button("Pause a week", HOME_PAUSE_ACTION, "pause"))
    buttons.append(_button("Stop", HOME_STOP_ACTION, "stop", style="danger"))
    return [
        _section("\n".join(line for line in lines if line)),
        _actions(*buttons),
        _holiday_menu(view, default_region),
    ]


def _cohort_blocks(library: Library, cohorts: HomeCohorts) -> list[Block]:
    """Which cohort someone's nudge is part of, and, for a lead, the cohorts they lead: the
    first few with their figures (counts only), the rest by name."""
    found: list[Block] = []
    if cohorts.member_of:
        found.append(
            _context(f"Your weekly nudge is part of the cohort in <#{cohorts.member_of}>.")
        )
    start = _actions(_button("Start a cohort", HOME_COHORT_ACTION, "start"))
    if not cohorts.leads:
        if cohorts.may_start:
            found.append(_divider())
            found.append(
                _section(
                    "*Cohorts*\nMake a channel a cohort: everyone in it practises together, "
                    "with the weekly nudge at the same day and time."
                )
            )
            found.append(start)
        return found
    found.append(_divider())
    found.append(
        _section(
            "*Cohorts you lead*\nCounts only: nobody's reflections or names are ever shown. "
            "`/leading-tip stats` in a cohort's channel shows the same, and "
            "`/leading-tip cohort off` there ends it."
        )
    )
    for cohort in cohorts.figures:
        found.append(_section(f"*The cohort in <#{cohort.channel_id}>*"))
        found.extend(cohort_figure_blocks(library, cohort))
    shown = {cohort.channel_id for cohort in cohorts.figures}
    rest = [channel for channel in cohorts.leads if channel not in shown]
    if rest:
        channels = ", ".join(f"<#{channel}>" for channel in rest)
        also = "Also" if shown else "You lead"
        found.append(
            _context(f"{also} {channels}: type `/leading-tip stats` in one for its figures.")
        )
    if cohorts.may_start:
        found.append(start)
    return found


def home_view(
    library: Library,
    view: ScheduleView,
    progress: Progress,
    latest: list[Entry],
    zone: ZoneInfo,
    today: date,
    cohorts: HomeCohorts | None = None,
    focus: str | None = None,
    *,
    look_back: bool = True,
    default_region: str = "NZ",
) -> dict[str, Any]:
    """Everything a person can see and change, without remembering a command. With more than
    one capability, the person's focus and a menu to choose another."""
    capability = library.focus_of(focus)
    several = len(library.capabilities) > 1
    behaviours = "\n".join(f"• {b.text}" for b in capability.behaviours)
    seen = "\n".join(
        f"{PLURAL_LABELS[kind]}: {progress.seen[kind]} of {progress.totals[kind]} seen"
        for kind in progress.totals
    )
    weeks = progress.weeks_in_a_row
    blocks: list[Block] = [
        _header("Leading Health nudges"),
        _context(f"{capability.group} · {library.attribution.context_line}"),
        _section(f"*{capability.title}*\n{capability.purpose}"),
        _section(f"*{capability.behaviours_intro}*\n{behaviours}"),
        *([_focus_menu(library, capability)] if several else []),
        _divider(),
        *_schedule_section(view, today, default_region),
        *_cohort_blocks(library, cohorts or HomeCohorts()),
        _divider(),
        _section(
            f"*Your progress*\n{seen}\nReflections written: {progress.reflections}\n"
            f"Weeks in a row with a reflection: {weeks}"
        ),
        _divider(),
        _section("*Your latest reflections* · private to you"),
    ]
    if latest:
        for entry in latest:
            words = cut(escape(entry.text), HOME_EXCERPT)
            blocks.append(_context(f"*{local_date(entry.created_at, zone)}* · {words}"))
    else:
        blocks.append(_context("None yet. Reply to a nudge in our DM and it's kept here."))
    blocks.append(
        _actions(
            _button("Journal", HOME_JOURNAL_ACTION, "journal"),
            _button("Give me a tip", HOME_TIP_ACTION, "tip"),
        )
    )
    blocks.extend(_look_back_section(look_back))
    blocks.append(_divider())
    blocks.append(
        _section(
            "*How it works*\nOnce a week I send one small thing to try and a question. Reply "
            "in our DM to keep a private reflection.\n"
            "Commands: `/leading-tip` `tip` `practice` `blocker` `reflect` `weekly` `pause` "
            "`resume` `stop` `journal` `export` `forget`"
            + (" `focus`" if several else "")
            + " `help`\n"
            "For admins and cohort leads: `cohort` makes a channel a cohort, `stats` shows "
            "figures (counts only) and `preview` sends you one of every message I send."
        )
    )
    return {"type": "home", "blocks": blocks}


def _focus_menu(library: Library, current: Capability) -> Block:
    options = [
        {"text": {"type": "plain_text", "text": cut(c.title, OPTION_TEXT_LIMIT)}, "value": c.id}
        for c in library.capabilities
    ]
    return {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*Your focus*\nYour tips and weekly nudges come from this capability.",
        },
        "accessory": {
            "type": "static_select",
            "action_id": HOME_FOCUS_ACTION,
            "options": options,
            "initial_option": options[library.capabilities.index(current)],
        },
    }


def _look_back_section(on: bool) -> list[Block]:
    """The "Show me my earlier reflections" switch, saying what it does and where it is now."""
    if on:
        text = (
            "*Show me my earlier reflections:* on\nNow and then, about four weeks after you "
            "write, a nudge shows you your own words again and asks what has changed since."
        )
        button = _button("Turn off", HOME_LOOK_BACK_ACTION, "off")
    else:
        text = (
            "*Show me my earlier reflections:* off\nYour nudges won't show you what you "
            "wrote before. Your reflections are still in your journal."
        )
        button = _button("Turn on", HOME_LOOK_BACK_ACTION, "on")
    return [_section(text), _actions(button)]


def _day_time_inputs(weekday: int, local_time: time) -> list[Block]:
    """The day and time inputs of the schedule modal and the cohort modal."""
    options = [
        {"text": {"type": "plain_text", "text": name}, "value": str(number)}
        for number, name in enumerate(WEEKDAY_NAMES)
    ]
    return [
        {
            "type": "input",
            "block_id": DAY_BLOCK,
            "label": {"type": "plain_text", "text": "Day"},
            "element": {
                "type": "static_select",
                "action_id": DAY_INPUT,
                "options": options,
                "initial_option": options[weekday],
            },
        },
        {
            "type": "input",
            "block_id": TIME_BLOCK,
            "label": {"type": "plain_text", "text": "Time"},
            "element": {
                "type": "timepicker",
                "action_id": TIME_INPUT,
                "initial_time": f"{local_time:%H:%M}",
            },
        },
    ]


def schedule_modal(view: ScheduleView) -> dict[str, Any]:
    """Choose a day and time; the same subscription as `/leading-tip weekly`."""
    return {
        "type": "modal",
        "callback_id": SCHEDULE_MODAL,
        "title": {"type": "plain_text", "text": "Your weekly nudge"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            *_day_time_inputs(view.weekday, view.local_time),
            _context(f"In your Slack time zone, {view.zone}."),
        ],
    }


def cohort_modal() -> dict[str, Any]:
    """Start a cohort from Home: the same as `/leading-tip cohort` typed in the channel."""
    return {
        "type": "modal",
        "callback_id": COHORT_MODAL,
        "title": {"type": "plain_text", "text": "Start a cohort"},
        "submit": {"type": "plain_text", "text": "Start"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": CHANNEL_BLOCK,
                "label": {"type": "plain_text", "text": "Channel"},
                "element": {
                    "type": "conversations_select",
                    "action_id": CHANNEL_INPUT,
                    "filter": {
                        "include": ["public", "private"],
                        "exclude_bot_users": True,
                        "exclude_external_shared_channels": True,
                    },
                },
            },
            *_day_time_inputs(0, time(9, 0)),
            _context(
                "Everyone in the channel gets one short private message from me and a weekly "
                "nudge at this day and time in their own time zone, unless they chose their "
                "own or had stopped. Nothing about anyone is posted in the channel."
            ),
        ],
    }


def info_modal(title: str, message: Message) -> dict[str, Any]:
    """A read-only modal (a tip or the journal opened from Home): no buttons inside."""
    blocks = [block for block in message.blocks if block["type"] != "actions"]
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": cut(title, MODAL_TITLE_LIMIT)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def welcome(library: Library, subscribed: bool) -> Message:
    """The one DM someone gets the first time they open Home. With several capabilities it
    names none: the Home tab shows their focus and how to change it."""
    practise = (
        "leadership capabilities, one at a time"
        if len(library.capabilities) > 1
        else f"*{library.capabilities[0].title}*"
    )
    text = (
        f"Kia ora. I help you practise {practise}, from {library.attribution.framework}.\n"
        "Once a week I can send you one small thing to try and a question to reflect on, at a "
        "day and time you choose.\n"
        "Reply to me any time. Your reflections are private: admins only ever see counts.\n"
        "Please keep patient details out of your reflections."
    )
    follow = (
        _context("You're already subscribed. Change the day or time on the Home tab.")
        if subscribed
        else _actions(_button("Subscribe", HOME_SUBSCRIBE_ACTION, "subscribe", style="primary"))
    )
    return Message(
        text="Kia ora, welcome to Leading Health nudges.", blocks=[_section(text), follow]
    )
