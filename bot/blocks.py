"""Every message the app shows is built here, so tone and layout stay consistent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.commands import MAX_WORD_SHOWN
from bot.content import KIND_LABELS, Item, Library, Question

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
    "weekly": "Weekly nudges aren't",
    "pause": "Pausing weekly nudges isn't",
    "resume": "Resuming weekly nudges isn't",
    "stop": "Stopping weekly nudges isn't",
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
