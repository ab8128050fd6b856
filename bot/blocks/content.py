"""Content on request: one tip, practice idea, blocker or question, and the help text."""

from __future__ import annotations

from bot.blocks.common import (
    Block,
    Message,
    _button,
    _context,
    _section,
    cut,
)
from bot.blocks.ids import (
    ANOTHER_ACTION,
)
from bot.commands import MAX_WORD_SHOWN
from bot.content import KIND_LABELS, Capability, Item, Library, Question
from bot.slack_text import escape

# What a person asked for, in words, for buttons and fallbacks.
ANOTHER_LABELS = {
    "tip": "Another tip",
    "practice": "Another practice idea",
    "blocker": "Another blocker",
    "reflect": "Another question",
}


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
    "`/leading-tip stats` — workspace figures, for admins; in a cohort's channel, its figures",
    "`/leading-tip cohort [day] [time]` — in a channel, for admins and leads: everyone in it "
    "gets the weekly nudge together; `cohort lead @someone` names a lead, `cohort practice on` "
    "posts a weekly practice idea in the channel, `cohort off` ends it",
    "`/leading-tip preview` — for admins and leads: one of every message I send, in your DM",
)


FOCUS_LINE = (
    "`/leading-tip focus` — the capabilities you can practise; `focus <name>` chooses yours"
)


def help_message(
    library: Library, typed: str | None = None, suggestion: str | None = None
) -> Message:
    """Usage, opening with a correction when the person typed a word we don't know. The focus
    word is shown only when there is more than one capability to choose from."""
    capability = library.capabilities[0]
    several = len(library.capabilities) > 1
    blocks: list[Block] = []
    lead = ""
    if typed is not None:
        shown = cut(escape(typed), MAX_WORD_SHOWN)
        lead = f"I don't know “{shown}”."
        if suggestion:
            lead += f" Did you mean `/leading-tip {suggestion}`?"
        blocks.append(_section(lead))
    practise = "one leadership capability" if several else f"*{capability.title}*"
    blocks.append(
        _section(
            f"*Leading Health nudges* helps you practise {practise}, one small step at a time."
        )
    )
    lines = (*HELP_LINES, FOCUS_LINE) if several else HELP_LINES
    blocks.append(_section("\n".join(f"• {line}" for line in lines)))
    blocks.append(_context(library.attribution.context_line))
    text = (lead + " " if lead else "") + "Leading Health nudges: type /leading-tip help for usage."
    return Message(text=text, blocks=blocks)


def focus_list(library: Library, current: Capability) -> Message:
    """`focus`: the capabilities to choose from, the person's own marked."""
    if len(library.capabilities) == 1:
        text = f"There is one capability to practise here: *{current.title}*."
        return Message(text=text, blocks=[_section(text)])
    lines = [
        f"• *{c.title}* ({c.group}) — `/leading-tip focus {c.id}`"
        + ("  ← your focus" if c.id == current.id else "")
        for c in library.capabilities
    ]
    intro = f"Your focus is *{current.title}*. You can choose any of these:"
    return Message(
        text=f"Your focus is {current.title}.",
        blocks=[
            _section(intro),
            _section("\n".join(lines)),
            _context(library.attribution.context_line),
        ],
    )


def focus_chosen(capability: Capability) -> Message:
    text = (
        f"Your focus is now *{capability.title}*. Your tips and weekly nudges come from it "
        "from here on."
    )
    return Message(text=f"Your focus is now {capability.title}.", blocks=[_section(text)])


def focus_unknown(typed: str) -> Message:
    shown = cut(escape(typed), MAX_WORD_SHOWN)
    text = (
        f"I couldn't find one capability called “{shown}”. Type `/leading-tip focus` to see "
        "the list, then copy its name."
    )
    return Message(text=text, blocks=[_section(text)])


def cohort_focus_set(capability: Capability) -> Message:
    text = (
        f"This cohort now practises *{capability.title}*. Its weekly nudges come from it, "
        "except for anyone who has chosen their own focus."
    )
    return Message(text=f"This cohort now practises {capability.title}.", blocks=[_section(text)])
