"""Every message the app shows is built here, so tone and layout stay consistent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.commands import MAX_WORD_SHOWN
from bot.content import KIND_LABELS, Item, Library, Question
from bot.schedule_words import format_time, weekday_name
from bot.services.subscriptions import ScheduleView
from bot.services.timing import describe_local

Block = dict[str, Any]

ANOTHER_ACTION = "another_item"

# What a person asked for, in words, for buttons and fallbacks.
ANOTHER_LABELS = {
    "tip": "Another tip",
    "practice": "Another practice idea",
    "blocker": "Another blocker",
    "reflect": "Another question",
}

# Words whose features arrive in later releases, and how to say they are not here yet.
NOT_YET = {
    "journal": "Your reflection journal isn't",
    "export": "Exporting your reflections isn't",
    "forget": "Deleting your data isn't",
    "stats": "Workspace figures aren't",
}


@dataclass(frozen=True)
class Message:
    """A Slack message: plain `text` for notifications and screen readers, plus blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(text: str) -> str:
    """Slack's three control characters, so typed text shows as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": t} for t in texts]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
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
        shown = escape(typed[:MAX_WORD_SHOWN] + ("…" if len(typed) > MAX_WORD_SHOWN else ""))
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


def not_available_yet(word: str) -> Message:
    text = (
        f"{NOT_YET[word]} available yet. "
        "For now, try `/leading-tip tip`, or `/leading-tip help` for everything else."
    )
    return Message(text=text, blocks=[_section(text)])


def something_went_wrong() -> Message:
    text = (
        "Sorry, something went wrong on our side and nothing was changed. "
        "Please try again in a minute."
    )
    return Message(text=text, blocks=[_section(text)])


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
PRIVATE_NOTE = "Reply in this thread to keep a private reflection. Only you can see it."


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
            f"Last week you reflected on “{follow_up.text}” Thank you for taking the time.\n"
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
        lines.append(f"{_rhythm(view)}. {_next_line(view)}")
    text = "\n".join(line for line in lines if line)
    return Message(text=text, blocks=[_section(text)])


def subscribed(view: ScheduleView) -> Message:
    return schedule_reply(
        view, "You're subscribed to a weekly nudge in your DMs with me. Reply to it any time."
    )


def paused(view: ScheduleView) -> Message:
    until = view.paused_until
    headline = "Paused."
    if until is not None:
        headline = f"Paused until {until.day} {until:%B %Y}."
    return schedule_reply(view, headline + " Type `/leading-tip resume` to start again sooner.")


def resumed(view: ScheduleView) -> Message:
    return schedule_reply(view, "Welcome back. Your weekly nudge is on again.")


def stopped() -> Message:
    text = (
        "Stopped. You won't get weekly nudges any more. Your reflections stay yours; "
        "type `/leading-tip weekly` to start again."
    )
    return Message(text=text, blocks=[_section(text)])


def not_subscribed(word: str) -> Message:
    text = (
        f"You don't have a weekly nudge to {word}. "
        "Type `/leading-tip weekly` to get one, e.g. `/leading-tip weekly tue 8:30`."
    )
    return Message(text=text, blocks=[_section(text)])


def correction(message: str) -> Message:
    """Input we could not use: say how to fix it. Nothing was changed."""
    text = f"{message} Nothing was changed."
    return Message(text=text, blocks=[_section(text)])
