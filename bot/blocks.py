"""Every message the app shows is built here, so tone and layout stay consistent."""

from __future__ import annotations

import contextlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands import MAX_WORD_SHOWN
from bot.content import KIND_LABELS, Item, Library, Question
from bot.schedule_words import weekday_name
from bot.services.insights import (
    MIN_GROUP,
    STATS_WEEKS,
    Progress,
    WeekFigures,
    WorkspaceFigures,
)
from bot.services.reflections import MAX_MODAL_CHARS, MAX_REFLECTION_CHARS, Entry, ForgetReport
from bot.services.subscriptions import ScheduleView
from bot.services.timing import (
    MONTH_NAMES,
    WEEKDAY_NAMES,
    describe_local,
    format_time,
    still_paused,
)
from bot.slack_text import escape

Block = dict[str, Any]

# Slack's Block Kit limits, in characters. Lengths here are counted in UTF-16 code units (an
# emoji is two), which is never fewer than Python's count, so a text within them fits either way.
TEXT_LIMIT = 3000  # any text object: a section, a context element, an input label
HEADER_LIMIT = 150
BUTTON_LIMIT = 75
MODAL_TITLE_LIMIT = 24
FALLBACK_LIMIT = 3000  # a message's plain `text`, for notifications and screen readers
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100  # a modal or the Home tab

ANOTHER_ACTION = "another_item"

# What a person asked for, in words, for buttons and fallbacks.
ANOTHER_LABELS = {
    "tip": "Another tip",
    "practice": "Another practice idea",
    "blocker": "Another blocker",
    "reflect": "Another question",
}


@dataclass(frozen=True)
class Message:
    """A Slack message: plain `text` for notifications and screen readers, plus blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", cut(self.text, FALLBACK_LIMIT))

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def plain(text: str) -> Message:
    """A one-paragraph message."""
    return Message(text=text, blocks=[_section(text)])


_ZWJ = "\u200d"  # zero-width joiner: 👩‍⚕️ is 👩, a joiner and ⚕️
_PARTIAL_ESCAPE = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")


def _width(char: str) -> int:
    return 2 if ord(char) > 0xFFFF else 1


def _belongs_to_previous(char: str) -> bool:
    """An accent, variation selector, skin tone, keycap or emoji tag: part of the character
    before it."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or char == _ZWJ
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF  # half of a flag: 🇳🇿 is 🇳 and 🇿


def _whole_characters(text: str, end: int) -> int:
    """Move `end` back so text[:end] holds no part of an emoji sequence, flag or accent."""
    while 0 < end < len(text) and (_belongs_to_previous(text[end]) or text[end - 1] == _ZWJ):
        end -= 1
    if 0 < end < len(text) and _regional(text[end]):
        run = 0
        while run < end and _regional(text[end - run - 1]):
            run += 1
        end -= run % 2
    return end


def cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters; otherwise as much as fits, then "…".

    Cut after escaping, so the limit holds for what is sent; never inside an escape such as
    `&amp;`, an emoji (or the sequence it is part of), or a flag."""
    if sum(_width(char) for char in text) <= limit:
        return text
    end = used = 0
    for char in text:
        used += _width(char)
        if used > limit - 1:  # room for the "…"
            break
        end += 1
    head = text[: _whole_characters(text, end)]
    return _PARTIAL_ESCAPE.sub("", head).rstrip() + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, TEXT_LIMIT)}}


def _context(*texts: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": cut(t, TEXT_LIMIT)} for t in texts],
    }


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(text, BUTTON_LIMIT), "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def content_item(library: Library, kind: str, entry: Item | Question) -> Message:
    """One tip, practice idea, blocker or reflection question, with an Another button."""
    capability = library.capability(entry.capability_id)
    label = KIND_LABELS[kind]
    blocks: list[Block] = [
        _context(f"{capability.group} · *{capability.title}*"),
        _section(f"*{label}*\n{escape(entry.text)}"),
    ]
    if isinstance(entry, Question):
        item = library.item(entry.item_id)
        blocks.append(_context(f"Goes with the {KIND_LABELS[item.kind].lower()}: “{item.text}”"))
    blocks.append(
        {
            "type": "actions",
            "elements": [_button(ANOTHER_LABELS[kind], ANOTHER_ACTION, kind)],
        }
    )
    blocks.append(_context(library.attribution.context_line))
    return Message(text=f"{label}: {entry.text}", blocks=blocks)


HELP_LINES = (
    "`/leading-tip` — one item, taking turns between tips, practice ideas and blockers",
    "`/leading-tip tip` — a quick tip",
    "`/leading-tip practice` — a way to practise this behaviour",
    "`/leading-tip blocker` — something that can hold you back",
    "`/leading-tip reflect` — a question to reflect on",
    "`/leading-tip weekly [day] [time]` — a weekly nudge in your DMs, e.g. `weekly tue 8:30`",
    "`/leading-tip pause [weeks]`, `resume`, `stop` — manage your weekly nudge",
    "`/leading-tip journal`, `export`, `forget` — your private reflections",
    "`/leading-tip stats` — workspace figures, for admins",
)


def help_message(
    library: Library, typed: str | None = None, suggestion: str | None = None
) -> Message:
    """Usage, opening with a correction when the person typed a word we don't know."""
    capability = library.capabilities[0]
    blocks: list[Block] = []
    lead = ""
    if typed is not None:
        shown = cut(escape(typed), MAX_WORD_SHOWN)
        lead = f"I don't know “{shown}”."
        if suggestion:
            lead += f" Did you mean `/leading-tip {suggestion}`?"
        blocks.append(_section(lead))
    blocks.append(
        _section(
            f"*Leading Health nudges* helps you practise *{capability.title}*, "
            "one small step at a time."
        )
    )
    blocks.append(_section("\n".join(f"• {line}" for line in HELP_LINES)))
    blocks.append(_context(library.attribution.context_line))
    text = (lead + " " if lead else "") + "Leading Health nudges: type /leading-tip help for usage."
    return Message(text=text, blocks=blocks)


def reflection_not_saved() -> Message:
    return plain(
        "Sorry, I couldn't save that reflection just now. "
        "Please send it again in a minute; nothing else was changed."
    )


# Inline on a modal's field when what was chosen could not be stored.
NOT_SAVED = "That didn't save. Please try again in a minute."


def button_not_understood() -> Message:
    """A button whose value the app never wrote: old, or changed on the way."""
    return plain(
        "Sorry, I couldn't read that button, so nothing was changed. "
        "Type `/leading-tip help` to see what you can do."
    )


def something_went_wrong() -> Message:
    text = (
        "Sorry, something went wrong on our side and nothing was changed. "
        "Please try again in a minute."
    )
    return plain(text)


# --- weekly nudges ---------------------------------------------------------------------------

NUDGE_REFLECT_ACTION = "nudge_reflect"
NUDGE_SNOOZE_ACTION = "nudge_snooze"
NUDGE_SKIP_ACTION = "nudge_skip"
BACKOFF_WEEKLY_ACTION = "backoff_weekly"
BACKOFF_FORTNIGHTLY_ACTION = "backoff_fortnightly"
BACKOFF_PAUSE_ACTION = "backoff_pause_month"

# Varied so weekly messages do not all look the same.
NUDGE_OPENINGS = (
    "Kia ora. Here's your nudge for this week.",
    "Here's something small to practise this week.",
    "Your weekly nudge is here.",
    "A new week, and one thing to try.",
    "Here's this week's practice.",
)
PRIVATE_NOTE = (
    "Reply in this thread to keep a private reflection. "
    "It's yours: admins only ever see counts, never your words."
)


def nudge(
    library: Library,
    *,
    delivery_id: int,
    item: Item,
    question: Question | None,
    follow_up: Item | None = None,
) -> Message:
    """The weekly DM: the item, why it matters, one thing to try, and a question."""
    capability = library.capability(item.capability_id)
    label = KIND_LABELS[item.kind]
    opening = NUDGE_OPENINGS[delivery_id % len(NUDGE_OPENINGS)]
    if follow_up is not None:
        opening = (
            f"Last time you reflected on “{follow_up.text}” Thank you for taking the time.\n"
            + opening
        )
    value = str(delivery_id)
    blocks: list[Block] = [
        _section(opening),
        _context(f"{capability.group} · *{capability.title}*"),
        _section(f"*{label}*\n{item.text}"),
        _context(f"Why it matters: {capability.purpose}"),
    ]
    if item.this_week:
        blocks.append(_section(f"*This week:* {item.this_week}"))
    if question is not None:
        blocks.append(_section(f"*Reflect:* {question.text}"))
    blocks.append(_context(PRIVATE_NOTE))
    blocks.append(
        {
            "type": "actions",
            "block_id": "nudge_actions",
            "elements": [
                _button("Reflect", NUDGE_REFLECT_ACTION, value, style="primary"),
                _button("Snooze a week", NUDGE_SNOOZE_ACTION, value),
                _button("Skip this one", NUDGE_SKIP_ACTION, value),
            ],
        }
    )
    blocks.append(_context(library.attribution.context_line))
    return Message(text=f"Your weekly nudge: {item.text}", blocks=blocks)


def backoff_question(library: Library, delivery_id: int) -> Message:
    """After three quiet weeks, ask how often rather than nudge again."""
    value = str(delivery_id)
    text = (
        "You've had a few nudges without a reply, and that's fine: weeks get busy. "
        "How often would you like them?"
    )
    return Message(
        text=text,
        blocks=[
            _section(text),
            {
                "type": "actions",
                "block_id": "backoff_actions",
                "elements": [
                    _button("Keep weekly", BACKOFF_WEEKLY_ACTION, value),
                    _button("Every 2 weeks", BACKOFF_FORTNIGHTLY_ACTION, value, style="primary"),
                    _button("Pause for a month", BACKOFF_PAUSE_ACTION, value),
                ],
            },
            _context("If you don't choose, we'll switch to every 2 weeks."),
        ],
    )


def _next_line(view: ScheduleView) -> str:
    if view.next_due_at is None:
        return ""
    zone = ZoneInfo(view.zone)
    return f"Next nudge: {describe_local(view.next_due_at, zone)} ({view.zone})."


def _rhythm(view: ScheduleView) -> str:
    every = "Every" if view.every_weeks == 1 else "Every second"
    return f"{every} {weekday_name(view.weekday)} at {format_time(view.local_time)}"


def schedule_reply(view: ScheduleView, headline: str) -> Message:
    """Replies to weekly, pause, resume, stop and the nudge buttons: always say what's next."""
    lines = [headline]
    if view.subscribed:
        if view.paused_until is not None:
            lines.append(f"Paused until {long_date(view.paused_until)}.")
        lines.append(f"{_rhythm(view)}. {_next_line(view)}")
    text = "\n".join(line for line in lines if line)
    return plain(text)


def subscribed(view: ScheduleView) -> Message:
    return schedule_reply(
        view, "You're subscribed to a weekly nudge in your DMs with me. Reply to it any time."
    )


def paused(view: ScheduleView) -> Message:
    return schedule_reply(
        view, "Your weekly nudge is paused. Type `/leading-tip resume` to start again sooner."
    )


def resumed(view: ScheduleView) -> Message:
    return schedule_reply(view, "Welcome back. Your weekly nudge is on again.")


def stopped() -> Message:
    text = (
        "Stopped. You won't get weekly nudges any more. Your reflections stay yours; "
        "type `/leading-tip weekly` to start again."
    )
    return plain(text)


def not_subscribed(word: str) -> Message:
    text = (
        f"You don't have a weekly nudge to {word}. "
        "Type `/leading-tip weekly` to get one, e.g. `/leading-tip weekly tue 8:30`."
    )
    return plain(text)


def correction(message: str) -> Message:
    """Input we could not use: say how to fix it. Nothing was changed."""
    text = f"{message} Nothing was changed."
    return plain(text)


# --- reflections -----------------------------------------------------------------------------

REFLECTION_MODAL = "reflection_modal"
REFLECTION_BLOCK = "reflection"
REFLECTION_INPUT = "reflection_text"
JOURNAL_OLDER_ACTION = "journal_older"
FORGET_CONFIRM_ACTION = "forget_confirm"
FORGET_CANCEL_ACTION = "forget_cancel"
SAVED_REACTION = "white_check_mark"
JOURNAL_EXCERPT = 700  # characters of each reflection shown in the journal; export has all

EMPTY_REFLECTION = "Write a sentence or two first. A few words is plenty."
LONG_REFLECTION = (
    f"That's more than {MAX_MODAL_CHARS:,} characters. Keep the heart of it, or reply "
    "in the nudge's thread instead, where there's more room."
)


def reflection_too_long() -> Message:
    return plain(
        f"That reflection is too long for me to save: it's over {MAX_REFLECTION_CHARS:,} "
        "characters. Please split it into two or more shorter messages. Nothing was saved."
    )


def edit_too_long() -> Message:
    return plain(
        f"That edit is too long for me to save: it's over {MAX_REFLECTION_CHARS:,} characters. "
        "I've kept your earlier words. Please split the new version into shorter messages."
    )


def long_date(day: date) -> str:
    """ "14 December 2026": month names from our own list, whatever the machine's locale."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def local_date(instant: datetime, zone: ZoneInfo) -> str:
    local = instant.astimezone(zone)
    return f"{long_date(local.date())}, {format_time(local.time())}"


def _answered(library: Library, item_id: str | None) -> str:
    if not item_id:
        return "Journal entry"
    try:
        item = library.item(item_id)
    except KeyError:
        return "Journal entry"
    return f"{KIND_LABELS[item.kind]}: “{item.text}”"


def reflection_modal(
    library: Library, delivery_id: int, item: Item | None, question: Question | None
) -> dict[str, Any]:
    blocks: list[Block] = []
    if item is not None:
        blocks.append(_context(f"{KIND_LABELS[item.kind]}: {item.text}"))
    prompt = question.text if question is not None else "What's on your mind from this week?"
    blocks.append(_section(f"*{prompt}*"))
    blocks.append(
        {
            "type": "input",
            "block_id": REFLECTION_BLOCK,
            "label": {"type": "plain_text", "text": "Your reflection"},
            "element": {
                "type": "plain_text_input",
                "action_id": REFLECTION_INPUT,
                "multiline": True,
                "max_length": MAX_MODAL_CHARS,
                "placeholder": {"type": "plain_text", "text": "A sentence or two is plenty"},
            },
        }
    )
    blocks.append(_context("Private to you: admins only ever see counts, never your words."))
    return {
        "type": "modal",
        "callback_id": REFLECTION_MODAL,
        "private_metadata": str(delivery_id),
        "title": {"type": "plain_text", "text": "Reflect"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def journal(
    library: Library, entries: list[Entry], zone: ZoneInfo, offset: int, has_more: bool
) -> Message:
    """A person's own reflections, newest first, ten at a time."""
    if not entries and offset == 0:
        text = (
            "Your journal is empty for now. Reply to a weekly nudge, or to any message in "
            "our DM, and it's kept here, private to you."
        )
        return plain(text)
    heading = "*Your reflections*" + (" (older)" if offset else "") + " · private to you"
    blocks: list[Block] = [_section(heading)]
    for entry in entries:
        # Escaped first, then cut: "&" is sent as "&amp;", so the cut counts what Slack gets.
        lines = escape(entry.text).splitlines() or [""]
        quoted = cut("\n".join(f"> {line}" for line in lines), JOURNAL_EXCERPT)
        edited = " (edited)" if entry.edited else ""
        blocks.append(
            _context(
                f"*{local_date(entry.created_at, zone)}*{edited} · "
                f"{_answered(library, entry.item_id)}"
            )
        )
        blocks.append(_section(quoted))
    if has_more:
        next_offset = str(offset + len(entries))
        blocks.append(
            {
                "type": "actions",
                "elements": [_button("Older", JOURNAL_OLDER_ACTION, next_offset)],
            }
        )
    blocks.append(_context("`/leading-tip export` sends you all of them as a file."))
    return Message(text=f"Your reflections ({len(entries)} shown)", blocks=blocks)


def export_markdown(library: Library, entries: list[Entry], zone: ZoneInfo, now: datetime) -> str:
    """The person's whole journal as a Markdown file."""
    lines = [
        "# My reflections: Leading Health nudges",
        "",
        f"Exported {local_date(now, zone)} ({zone}). These are your private notes.",
        "",
    ]
    for entry in entries:
        lines.append(
            f"## {local_date(entry.created_at, zone)}" + (" (edited)" if entry.edited else "")
        )
        lines.append("")
        lines.append(f"*{_answered(library, entry.item_id)}*")
        if entry.question_id:
            with contextlib.suppress(KeyError):  # a question retired from the content
                lines.append(f"*Question: {library.question(entry.question_id).text}*")
        lines.append("")
        lines.append(entry.text)
        lines.append("")
    lines.append("---")
    lines.append(
        f"Content quoted from {library.attribution.framework}, {library.attribution.owner}."
    )
    return "\n".join(lines) + "\n"


def export_sent() -> Message:
    text = "I've put all your reflections in our DM as a file. It's a plain text file you can keep."
    return plain(text)


def export_empty() -> Message:
    text = "You don't have any reflections yet, so there's nothing to export."
    return plain(text)


def forget_confirm() -> Message:
    text = (
        "This deletes everything stored about you in this workspace: your reflections, "
        "your weekly nudge and its history, and which items you've seen. It can't be undone."
    )
    return Message(
        text=text,
        blocks=[
            _section(f"*Delete your data?*\n{text}"),
            {
                "type": "actions",
                "elements": [
                    _button("Delete everything", FORGET_CONFIRM_ACTION, "confirm", style="danger"),
                    _button("Cancel", FORGET_CANCEL_ACTION, "cancel"),
                ],
            },
        ],
    )


def forget_done(report: ForgetReport) -> Message:
    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    text = (
        "Done. Deleted "
        f"{count(report.reflections, 'reflection', 'reflections')}, "
        f"{count(report.nudges, 'nudge record', 'nudge records')}, "
        f"{count(report.schedules, 'weekly schedule', 'weekly schedules')} and "
        f"{count(report.items_seen, 'record of an item seen', 'records of items seen')}. "
        "Nothing about you is kept here now."
    )
    return plain(text)


def forget_cancelled() -> Message:
    text = "Cancelled. Nothing was deleted."
    return plain(text)


# --- App Home, welcome and admin figures -----------------------------------------------------

HOME_CHANGE_ACTION = "home_change"
HOME_SUBSCRIBE_ACTION = "home_subscribe"
HOME_PAUSE_ACTION = "home_pause"
HOME_RESUME_ACTION = "home_resume"
HOME_STOP_ACTION = "home_stop"
HOME_JOURNAL_ACTION = "home_journal"
HOME_TIP_ACTION = "home_tip"
SCHEDULE_MODAL = "schedule_modal"
DAY_BLOCK, DAY_INPUT = "day", "day_select"
TIME_BLOCK, TIME_INPUT = "time", "time_picker"
HOME_EXCERPT = 300

PLURAL_LABELS = {"tip": "Quick tips", "practice": "Practice ideas", "blocker": "Blockers"}


def _header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": cut(text, HEADER_LIMIT), "emoji": True},
    }


def _divider() -> Block:
    return {"type": "divider"}


def _actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons)}


def _schedule_section(view: ScheduleView, today: date) -> list[Block]:
    if view.status != "active":
        text = (
            "*Your weekly nudge*\nYou're not subscribed. Choose a day and time and I'll send "
            "you one small thing to practise each week, with a question to reflect on."
        )
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
    return [_section("\n".join(line for line in lines if line)), _actions(*buttons)]


def home_view(
    library: Library,
    view: ScheduleView,
    progress: Progress,
    latest: list[Entry],
    zone: ZoneInfo,
    today: date,
) -> dict[str, Any]:
    """Everything a person can see and change, without remembering a command."""
    capability = library.capabilities[0]
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
        _divider(),
        *_schedule_section(view, today),
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
    blocks.append(_divider())
    blocks.append(
        _section(
            "*How it works*\nOnce a week I send one small thing to try and a question. Reply "
            "in our DM to keep a private reflection.\n"
            "Commands: `/leading-tip` `tip` `practice` `blocker` `reflect` `weekly` `pause` "
            "`resume` `stop` `journal` `export` `forget` `help`"
        )
    )
    return {"type": "home", "blocks": blocks}


def schedule_modal(view: ScheduleView) -> dict[str, Any]:
    """Choose a day and time; the same subscription as `/leading-tip weekly`."""
    options = [
        {"text": {"type": "plain_text", "text": name}, "value": str(number)}
        for number, name in enumerate(WEEKDAY_NAMES)
    ]
    return {
        "type": "modal",
        "callback_id": SCHEDULE_MODAL,
        "title": {"type": "plain_text", "text": "Your weekly nudge"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": DAY_BLOCK,
                "label": {"type": "plain_text", "text": "Day"},
                "element": {
                    "type": "static_select",
                    "action_id": DAY_INPUT,
                    "options": options,
                    "initial_option": options[view.weekday],
                },
            },
            {
                "type": "input",
                "block_id": TIME_BLOCK,
                "label": {"type": "plain_text", "text": "Time"},
                "element": {
                    "type": "timepicker",
                    "action_id": TIME_INPUT,
                    "initial_time": f"{view.local_time:%H:%M}",
                },
            },
            _context(f"In your Slack time zone, {view.zone}."),
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
    capability = library.capabilities[0]
    text = (
        f"Kia ora. I help you practise *{capability.title}*, from "
        f"{library.attribution.framework}.\n"
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


def _bar(value: int, largest: int, width: int = 16) -> str:
    return "█" * (round(value / largest * width) if largest else 0)


def _week_row(week: WeekFigures, largest: int) -> str:
    reflections = (
        f"{'':<16}{'–':>4}"  # too few people that week
        if week.reflections is None
        else f"{_bar(week.reflections, largest):<16}{week.reflections:>4}"
    )
    return (
        f"{week.week_start.day:>2} {MONTH_NAMES[week.week_start.month - 1][:3]}  "
        f"{_bar(week.nudges_sent, largest):<16}{week.nudges_sent:>4}  {reflections}"
    )


def workspace_figures(library: Library, figures: WorkspaceFigures) -> Message:
    """Counts only: never anyone's words or names."""
    too_few = f"too few to show (fewer than {MIN_GROUP} people got nudges)"
    rate = figures.reflection_rate
    rate_text = f"{rate:.0%} of nudges got a reflection" if rate is not None else too_few
    largest = max(
        [w.nudges_sent for w in figures.weeks] + [w.reflections or 0 for w in figures.weeks]
    )
    rows = [f"{'Week of':<8}{'Nudges sent':<22}Reflections"] + [
        _week_row(week, largest) for week in figures.weeks
    ]
    week_note = (
        f"\n`–` too few to show: fewer than {MIN_GROUP} people got nudges that week."
        if any(week.reflections is None for week in figures.weeks)
        else ""
    )
    if figures.top_items is None:
        top_text = too_few[0].upper() + too_few[1:] + "."
    else:
        top = [
            f"{rank}. {_answered(library, item_id)} ({count} reflection{'s' if count != 1 else ''})"
            for rank, (item_id, count) in enumerate(figures.top_items, start=1)
        ]
        top_text = "\n".join(top) if top else "None yet."
    blocks = [
        _section("*Leading Health nudges: workspace figures*"),
        _context("Counts only. Nobody's reflections or names are ever shown."),
        _section(
            f"Subscribers: *{figures.subscribers}* ({figures.paused} paused)\n"
            f"Reflection rate, last {STATS_WEEKS} weeks: *{rate_text}*"
        ),
        _section(f"*The last {STATS_WEEKS} weeks*\n```{chr(10).join(rows)}```{week_note}"),
        _section(f"*Items most often reflected on*\n{top_text}"),
    ]
    return Message(text="Workspace figures for Leading Health nudges", blocks=blocks)


def figures_refused() -> Message:
    text = (
        "Workspace figures are for Slack workspace admins and owners. "
        "If you need them, ask one of your admins."
    )
    return plain(text)
