"""Reflections: the Reflect modal, the journal, export replies and forget."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.common import (
    Block,
    Message,
    _answered,
    _button,
    _context,
    _section,
    cut,
    local_date,
    long_date,
    plain,
)
from bot.blocks.ids import (
    FORGET_CANCEL_ACTION,
    FORGET_CONFIRM_ACTION,
    JOURNAL_OLDER_ACTION,
    REFLECTION_BLOCK,
    REFLECTION_INPUT,
    REFLECTION_MODAL,
    SEASON_EXPORT_ACTION,
)
from bot.blocks.nudges import LOOK_BACK_QUESTION
from bot.content import KIND_LABELS, Item, Library, Question
from bot.slack_text import escape
from bot.values import (
    MAX_MODAL_CHARS,
    MAX_REFLECTION_CHARS,
    Entry,
    ForgetReport,
    SeasonWords,
)

SEASON_EXCERPT = 500  # characters of each of their own lines in a season summary
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


def reflection_modal(
    library: Library,
    delivery_id: int,
    item: Item | None,
    question: Question | None,
    looking_back: bool = False,
) -> dict[str, Any]:
    blocks: list[Block] = []
    if item is not None:
        blocks.append(_context(f"{KIND_LABELS[item.kind]}: {item.text}"))
    prompt = question.text if question is not None else "What's on your mind from this week?"
    if looking_back:
        prompt = f"Looking back at what you wrote: {LOOK_BACK_QUESTION.lower()}"
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
        looking_back = ""
        if entry.looks_back_to is not None:
            written = long_date(entry.looks_back_to.astimezone(zone).date())
            looking_back = f" · looking back at what you wrote on {written}"
        blocks.append(
            _context(
                f"*{local_date(entry.created_at, zone)}*{edited} · "
                f"{_answered(library, entry.item_id)}{looking_back}"
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


def season_summary(library: Library, words: SeasonWords) -> Message:
    """Every 12 weeks, to the person only: their weeks of practice, the items they came back
    to, and a few of their own lines (escaped, then cut)."""
    weeks = "week" if words.weeks == 1 else "weeks"
    blocks: list[Block] = [
        _section(
            f"*Your last 12 weeks*\nYou reflected in {words.weeks} {weeks} of the 12. "
            "Here's a look back at your own words."
        )
    ]
    if words.item_ids:
        most = "\n".join(f"• {_answered(library, i)}" for i in words.item_ids)
        blocks.append(_section(f"*What you came back to most*\n{most}"))
    for line in words.lines:
        quoted = cut(escape(line), SEASON_EXCERPT).replace("\n", "\n>")
        blocks.append(_section(f"You wrote:\n>{quoted}"))
    blocks.append(_context("Only you can see this. Keep the whole journal as a file:"))
    blocks.append(
        {
            "type": "actions",
            "elements": [_button("Export my journal", SEASON_EXPORT_ACTION, "export")],
        }
    )
    return Message(text="A look back at your last 12 weeks", blocks=blocks)
