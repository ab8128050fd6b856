"""The weekly nudge, the "how often?" question, and replies about a person's schedule."""

from __future__ import annotations

from bot.blocks.common import (
    Block,
    Message,
    _button,
    _context,
    _next_line,
    _rhythm,
    _section,
    cut,
    long_date,
    plain,
)
from bot.blocks.ids import (
    BACKOFF_FORTNIGHTLY_ACTION,
    BACKOFF_PAUSE_ACTION,
    BACKOFF_WEEKLY_ACTION,
    NUDGE_REFLECT_ACTION,
    NUDGE_SKIP_ACTION,
    NUDGE_SNOOZE_ACTION,
)
from bot.content import KIND_LABELS, Item, Library, Question
from bot.slack_text import escape
from bot.values import (
    EarlierWords,
    ScheduleView,
)

# Varied so weekly messages do not all look the same.
NUDGE_OPENINGS = (
    "Kia ora. Here's your nudge for this week.",
    "Here's something small to practise this week.",
    "Your weekly nudge is here.",
    "A new week, and one thing to try.",
    "Here's this week's practice.",
)
EARLIER_EXCERPT = 400  # characters of an earlier reflection shown again, quoted
LOOK_BACK_QUESTION = "What has changed since then?"
WELCOME_BACK = "Welcome back. Your nudges took a break while you were away."
WEEKS_IN_WORDS = {4: "Four", 5: "Five", 6: "Six"}
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
    earlier: EarlierWords | None = None,
    welcome_back: bool = False,
) -> Message:
    """The weekly DM: the item, why it matters, one thing to try, and a question; or, with
    one of their own earlier reflections, that instead of the item's question, and one question
    about it. Their words stay out of the fallback text, which notifications show."""
    capability = library.capability(item.capability_id)
    label = KIND_LABELS[item.kind]
    opening = NUDGE_OPENINGS[delivery_id % len(NUDGE_OPENINGS)]
    if follow_up is not None:
        opening = (
            f"Last time you reflected on “{follow_up.text}” Thank you for taking the time.\n"
            + opening
        )
    if welcome_back:  # the week before was skipped: their Slack status said they were away
        opening = f"{WELCOME_BACK}\n{opening}"
    value = str(delivery_id)
    blocks: list[Block] = [
        _section(opening),
        _context(f"{capability.group} · *{capability.title}*"),
        _section(f"*{label}*\n{item.text}"),
        _context(f"Why it matters: {capability.purpose}"),
    ]
    if item.this_week:
        blocks.append(_section(f"*This week:* {item.this_week}"))
    if earlier is not None:
        blocks.append(_section(looking_back(earlier)))
        blocks.append(_section(f"*Reflect:* {LOOK_BACK_QUESTION}"))
    elif question is not None:
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


def looking_back(earlier: EarlierWords) -> str:
    """“Four weeks ago you wrote:” and their words, quoted: escaped first, then cut, so the cut
    counts what Slack gets."""
    weeks = WEEKS_IN_WORDS.get(earlier.weeks_ago, str(earlier.weeks_ago))
    edited = " (edited since)" if earlier.edited else ""
    lines = escape(earlier.text).splitlines() or [""]
    quoted = cut("\n".join(f"> {line}" for line in lines), EARLIER_EXCERPT)
    return f"*Looking back*\n{weeks} weeks ago you wrote{edited}:\n{quoted}"


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
