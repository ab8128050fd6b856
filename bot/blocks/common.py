"""Pieces every message shares: the Message type, Block Kit limits, escaping and cutting, the small
block builders, dates in words, and the replies any surface may give."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import KIND_LABELS, Library
from bot.slack_text import escape
from bot.values import (
    MONTH_NAMES,
    ScheduleView,
    describe_local,
    format_time,
    weekday_name,
)

Block = dict[str, Any]

# Slack's Block Kit limits, in characters. Lengths here are counted in UTF-16 code units (an
# emoji is two), which is never fewer than Python's count, so a text within them fits either way.
TEXT_LIMIT = 3000  # any text object: a section, a context element, an input label
HEADER_LIMIT = 150
BUTTON_LIMIT = 75
OPTION_TEXT_LIMIT = 75  # a menu option's text
MODAL_TITLE_LIMIT = 24
FALLBACK_LIMIT = 3000  # a message's plain `text`, for notifications and screen readers
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100  # a modal or the Home tab


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
    if len(text) <= limit // 2 or len(text.encode("utf-16-le")) // 2 <= limit:
        return text  # width counts UTF-16 units, as Slack does: an astral character is two
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


def _next_line(view: ScheduleView) -> str:
    """When the next nudge goes and, when it waits, why: "Next nudge: Tuesday 9 February,
    9:00 am (Pacific/Auckland): moved from Monday, Waitangi Day (observed)." """
    if view.next_due_at is None:
        return ""
    zone = ZoneInfo(view.zone)
    line = f"Next nudge: {describe_local(view.next_due_at, zone)} ({view.zone})"
    why = _moved(view, zone)
    return f"{line}: {why}." if why else f"{line}."


def _moved(view: ScheduleView, zone: ZoneInfo) -> str:
    """Why the next nudge is not at its usual slot, or "" when it is."""
    if view.moved_from is None or view.next_due_at is None:
        return ""
    slot = view.moved_from.astimezone(zone)
    if view.moved_why == "dnd":
        return f"due at {format_time(slot.time())}, waiting for Do Not Disturb to end"
    same_day = slot.date() == view.next_due_at.astimezone(zone).date()
    whence = f"at {format_time(slot.time())}" if same_day else weekday_name(slot.weekday())
    if view.moved_why == "holiday" and view.holiday:
        return f"moved from {whence}, {escape(view.holiday)}"
    if view.moved_why == "leave":
        return f"moved from {whence} while your Slack status says you're away"
    return f"moved from {whence}"


def _rhythm(view: ScheduleView) -> str:
    every = "Every" if view.every_weeks == 1 else "Every second"
    return f"{every} {weekday_name(view.weekday)} at {format_time(view.local_time)}"


def _header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": cut(text, HEADER_LIMIT), "emoji": True},
    }


def _divider() -> Block:
    return {"type": "divider"}


def _actions(*buttons: Block) -> Block:
    return {"type": "actions", "elements": list(buttons)}


def reflection_not_saved() -> Message:
    return plain(
        "Sorry, I couldn't save that reflection just now. "
        "Please send it again in a minute; nothing else was changed."
    )


# What Bolt answers a request from a workspace with no install of the app (multi-workspace).
NOT_INSTALLED = (
    "Leading Health isn't set up in this workspace yet, so nothing was done. "
    "Ask one of your workspace admins to add it to Slack, then try again."
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


def correction(message: str) -> Message:
    """Input we could not use: say how to fix it. Nothing was changed."""
    text = f"{message} Nothing was changed."
    return plain(text)
