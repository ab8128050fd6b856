"""`/leading-tip preview`: every message the app sends, each marked as a preview, with its
buttons named rather than shown (a preview's buttons would act on nothing)."""

from __future__ import annotations

from bot.blocks.cohorts import cohort_ended_dm, cohort_intro, cohort_practice_post
from bot.blocks.common import Block, Message, _context, plain
from bot.blocks.home import welcome
from bot.blocks.nudges import backoff_question, nudge
from bot.content import Library
from bot.values import CohortIntro, EarlierWords, PreviewSample

NOT_KEPT = "Nothing about it is recorded, and a reply to it isn't kept."
# Never anyone's own words: a preview shows an example of what a person would see.
EXAMPLE_EARLIER = EarlierWords(
    "(An example: the person's own words from four weeks ago.)", 4, False
)


def _buttons_named(block: Block) -> Block:
    labels = " · ".join(element["text"]["text"] for element in block.get("elements", []))
    return _context(f"Its buttons: {labels}.")


def as_preview(message: Message, what: str) -> Message:
    """The message as sent, under a line saying which it is, buttons named."""
    blocks = [_context(f"*Preview: {what}.* {NOT_KEPT}")]
    blocks += [_buttons_named(b) if b.get("type") == "actions" else b for b in message.blocks]
    return Message(text=f"Preview ({what}): {message.text}", blocks=blocks)


def previews(library: Library, sample: PreviewSample) -> list[Message]:
    """One of each message, in the order someone meets them."""
    tip = library.items("tip")[0]
    practice = library.items("practice")[0]
    question = next(iter(library.questions_for(tip.id)), None)
    practice_question = next(iter(library.questions_for(practice.id)), None)
    channel = sample.channel_id or ""
    return [
        as_preview(welcome(library, subscribed=False), "the welcome, when someone first opens me"),
        as_preview(
            cohort_intro(library, CohortIntro(channel, sample.view, own_schedule=False)),
            "the message each person gets on joining a cohort",
        ),
        as_preview(nudge(library, delivery_id=0, item=tip, question=question), "the weekly nudge"),
        as_preview(
            nudge(
                library,
                delivery_id=1,
                item=practice,
                question=practice_question,
                follow_up=tip,
            ),
            "the weekly nudge after someone has reflected, opening with their last item",
        ),
        as_preview(
            nudge(library, delivery_id=2, item=tip, question=question, earlier=EXAMPLE_EARLIER),
            "the weekly nudge that shows someone their own reflection from four weeks before",
        ),
        as_preview(
            backoff_question(library, 0),
            "the “how often?” question, after three nudges with no reply",
        ),
        as_preview(
            cohort_practice_post(library, practice),
            "the practice posted in a cohort's channel, if its leads turn practice posts on",
        ),
        as_preview(cohort_ended_dm(channel), "the message when a cohort ends"),
    ]


def preview_sent(count: int) -> Message:
    return plain(
        f"I've sent you {count} previews in our DM, one of each message I send. Nothing was "
        "recorded, and replies to them aren't kept."
    )


def preview_refused() -> Message:
    return plain(
        "Previews are for workspace admins and cohort leads, so nothing was sent. To see a "
        "nudge for yourself, type `/leading-tip weekly`."
    )


def preview_reply_not_kept() -> Message:
    return plain(
        "That was a preview, so I haven't kept this reply. To keep a reflection, reply to one of "
        "your own nudges or message me here."
    )
