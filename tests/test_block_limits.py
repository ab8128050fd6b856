"""Slack refuses a message or view over Block Kit's limits: no one's words may push one over."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot import blocks
from bot.clock import ManualClock
from bot.content import Attribution, Library, load_library
from bot.services.insights import Progress, WeekFigures, WorkspaceFigures
from bot.services.reflections import Entry, ForgetReport
from bot.services.subscriptions import ScheduleView
from bot.values import (
    CapabilityFigures,
    CohortFigures,
    CohortIntro,
    CohortSettled,
    EarlierWords,
    HomeCohorts,
    PracticeSettled,
    PreviewSample,
    SeasonWords,
)
from devkit.slack_sim import block_action_body
from tests.conftest import RunningApp
from tests.helpers import DUE, dm, say, ts_at

# What a person can type (and Slack will carry: a message holds up to 40,000 characters).
WORST = {
    "ampersands": "&" * 3001,
    "angle-brackets": "<>" * 1501,
    "typed-escapes": "&amp;&lt;" * 400,
    "emoji": "🌿" * 3001,
    "emoji-sequences": "👩🏽‍⚕️🇳🇿" * 700,
    "accents": "e\u0301" * 3001,
    "blank-lines": "\n" * 3001,
    "40000-characters": "x" * 40_000,
    "40000-mixed": ("Kia ora & <b>tēnā</b> 🌿👩🏽‍⚕️🇳🇿 e\u0301\n" * 1600)[:40_000],
}
ZONE = "America/Argentina/ComodRivadavia"  # the longest zone name Slack can give us
BIG = 2**31 - 1


def units(text: str) -> int:
    """Length as Slack counts it at most: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def worst_library(text: str) -> Library:
    """The real content with every word replaced by `text`: content is stored text too."""
    library = load_library()
    capabilities = tuple(
        replace(
            c,
            title=text,
            group=text,
            purpose=text,
            looks_like=text,
            behaviours_intro=text,
            behaviours=tuple(replace(b, text=text) for b in c.behaviours),
            items=tuple(replace(i, text=text, this_week=text) for i in c.items),
            questions=tuple(replace(q, text=text) for q in c.questions),
            practice_intro=text,
            blockers_intro=text,
        )
        for c in library.capabilities
    )
    attribution = Attribution(text, text, text, "https://example.org", text)
    return Library(capabilities, attribution, dict(library.glossary), library.groups)


def with_a_second_capability(library: Library) -> Library:
    """`library` and a copy of its capability under other ids: what several capabilities show."""
    first = library.capabilities[0]
    other = "other-capability"
    second = replace(
        first,
        id=other,
        items=tuple(replace(i, id=f"{i.id}-2", capability_id=other) for i in first.items),
        questions=tuple(
            replace(q, id=f"{q.id}-2", item_id=f"{q.item_id}-2", capability_id=other)
            for q in first.questions
        ),
    )
    return Library((first, second), library.attribution, library.glossary, library.groups)


def text_objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if value.get("type") in ("plain_text", "mrkdwn") and "text" in value:
            yield value
        for inner in value.values():
            yield from text_objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from text_objects(inner)


CUT_INSIDE = re.compile(r"(&(a|am|amp|l|lt|g|gt)|\u200d)…$")  # half an escape, or a joiner


def check_texts(value: Any) -> None:
    for obj in text_objects(value):
        text = obj["text"]
        assert 1 <= units(text) <= blocks.TEXT_LIMIT, units(text)
        assert not CUT_INSIDE.search(text), text[-20:]
        flag_half = re.search(r"([\U0001f1e6-\U0001f1ff]+)…$", text)
        assert flag_half is None or len(flag_half.group(1)) % 2 == 0


def check_message(message: blocks.Message) -> None:
    sent = message.as_kwargs()
    assert 1 <= units(sent["text"]) <= blocks.FALLBACK_LIMIT
    assert 1 <= len(sent["blocks"]) <= blocks.MESSAGE_BLOCK_LIMIT == 50
    for block in sent["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None, block["type"]
        parsed.validate_json()
        parsed.to_dict()  # validates every element inside, too
    check_texts(sent["blocks"])


def check_view(view: dict[str, Any]) -> None:
    assert 1 <= len(view["blocks"]) <= blocks.VIEW_BLOCK_LIMIT == 100
    parsed = View(**view)
    parsed.validate_json()
    parsed.to_dict()
    check_texts(view)


def assert_escaped(text: str) -> None:
    """The person's words as typed: no raw <, > or & reaches Slack's markup."""
    for line in text.splitlines():
        words = re.sub(r"^> ?", "", line)  # the journal's own quote marker
        assert not re.search(r"&(?!amp;|lt;|gt;)|[<>]", words), line[:40]


def every_builder(text: str) -> Iterator[tuple[str, blocks.Message | dict[str, Any]]]:
    """Every message, modal and Home view in bot/blocks/, with `text` wherever a person's
    words or a stored value can go."""
    library = worst_library(text)
    item, question = library.items()[0], library.questions()[0]
    tip = library.items("tip")[0]
    zone = ZoneInfo(ZONE)
    now = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    entries = [
        Entry(n, text, now - timedelta(days=n), True, item.id if n % 2 else None, question.id)
        for n in range(10)
    ]
    active = ScheduleView(
        status="active",
        weekday=6,
        local_time=time(23, 59),
        zone=ZONE,
        every_weeks=2,
        next_due_at=now + timedelta(days=300),
        paused_until=date(2027, 11, 29),
        # Moved off a public holiday (a name from the holidays package: stored text all the same),
        # in the region with the longest name Home offers.
        region="NZ-South Canterbury",
        moved_from=now + timedelta(days=299),
        moved_why="holiday",
        holiday=text,
    )
    stopped = ScheduleView(status="none", zone=ZONE)
    progress = Progress(
        seen={kind: BIG for kind in blocks.PLURAL_LABELS},
        totals={kind: BIG for kind in blocks.PLURAL_LABELS},
        reflections=BIG,
        weeks_in_a_row=BIG,
    )
    weeks = [WeekFigures(date(2026, 10, 5) + timedelta(weeks=n), BIG, BIG) for n in range(8)]
    figures = WorkspaceFigures(
        BIG, BIG, weeks, BIG, BIG, BIG, [(i.id, BIG) for i in library.items()]
    )
    journal = blocks.journal(library, entries, zone, BIG, True)
    yield "plain", blocks.plain(text)
    for kind in ("tip", "practice", "blocker"):
        yield f"content_item {kind}", blocks.content_item(library, kind, library.items(kind)[0])
    yield "content_item reflect", blocks.content_item(library, "reflect", question)
    yield "help_message", blocks.help_message(library, typed=text, suggestion="weekly")
    yield "help_message plain", blocks.help_message(library)
    yield "reflection_not_saved", blocks.reflection_not_saved()
    yield "something_went_wrong", blocks.something_went_wrong()
    yield (
        "nudge",
        blocks.nudge(library, delivery_id=BIG, item=item, question=question, follow_up=tip),
    )
    yield "nudge bare", blocks.nudge(library, delivery_id=BIG, item=item, question=None)
    earlier = EarlierWords(text + "\n" + text, BIG, True)
    yield (
        "nudge looking back",
        blocks.nudge(
            library, delivery_id=BIG, item=item, question=question, follow_up=tip, earlier=earlier
        ),
    )
    yield "backoff_question", blocks.backoff_question(library, BIG)
    yield "schedule_reply", blocks.schedule_reply(active, text)
    yield "subscribed", blocks.subscribed(active)
    yield "paused", blocks.paused(active)
    yield "resumed", blocks.resumed(active)
    yield "stopped", blocks.stopped()
    yield "not_subscribed", blocks.not_subscribed(text)
    yield "correction", blocks.correction(text)
    yield "reflection_modal", blocks.reflection_modal(library, BIG, item, question)
    yield "reflection_modal bare", blocks.reflection_modal(library, BIG, None, None)
    yield "reflection_modal looking back", blocks.reflection_modal(library, BIG, item, None, True)
    yield "journal", journal
    yield "journal empty", blocks.journal(library, [], zone, 0, False)
    yield "export_sent", blocks.export_sent()
    yield "export_empty", blocks.export_empty()
    every_item = tuple(item.id for item in library.items())
    for lines in ((), (text,), (text, text, text)):
        words = SeasonWords(BIG, every_item[:3], lines)
        yield "season_summary", blocks.season_summary(library, words)
    yield "forget_confirm", blocks.forget_confirm()
    yield "forget_done", blocks.forget_done(ForgetReport(BIG, BIG, BIG, BIG))
    yield "forget_cancelled", blocks.forget_cancelled()
    for view in (active, replace(active, paused_until=None), stopped):
        yield "home_view", blocks.home_view(library, view, progress, entries[:3], zone, now.date())
        yield "schedule_modal", blocks.schedule_modal(view)
    yield "home_view empty", blocks.home_view(library, stopped, progress, [], zone, now.date())
    for why in ("leave", "dnd"):  # and a workspace default outside New Zealand's regions
        held = replace(active, moved_why=why, holiday=None, region="AU-NSW")
        yield (
            f"home_view {why}",
            blocks.home_view(
                library, held, progress, entries[:3], zone, now.date(), default_region="AU-NSW"
            ),
        )
    leads = tuple(f"C{n:031d}" for n in range(20))
    shown = (CohortFigures(leads[0], BIG, figures), CohortFigures(leads[1], BIG, None))
    shown += (CohortFigures(leads[2], BIG, figures),)
    led = HomeCohorts("C" + "X" * 31, leads, shown)
    yield (
        "home_view cohorts",
        blocks.home_view(library, active, progress, [], zone, now.date(), led),
    )
    yield (
        "home_view not looking back",
        blocks.home_view(library, active, progress, entries[:3], zone, now.date(), look_back=False),
    )
    yield "cohort_modal", blocks.cohort_modal()
    starter = HomeCohorts(may_start=True)
    yield (
        "home_view may start a cohort",
        blocks.home_view(library, active, progress, [], zone, now.date(), starter),
    )
    yield (
        "home_view leading, may start",
        blocks.home_view(
            library, active, progress, [], zone, now.date(), replace(led, may_start=True)
        ),
    )
    yield "info_modal journal", blocks.info_modal("Your journal", journal)
    yield "info_modal tip", blocks.info_modal(text, blocks.content_item(library, "tip", tip))
    yield "welcome", blocks.welcome(library, True)
    yield "welcome subscribe", blocks.welcome(library, False)
    yield "workspace_figures", blocks.workspace_figures(library, figures)
    yield "figures_refused", blocks.figures_refused()
    channel = "C" + "X" * 31  # the longest id Slack can send
    short = WorkspaceFigures(BIG, BIG, weeks[:2], BIG, BIG, BIG, figures.top_items)
    for cohort in (figures, short, None):
        yield "cohort_figures", blocks.cohort_figures(library, CohortFigures(channel, BIG, cohort))
    yield "cohort_figures_refused", blocks.cohort_figures_refused()
    for view, own in ((active, True), (active, False), (stopped, False)):
        yield "cohort_intro", blocks.cohort_intro(library, CohortIntro(channel, view, own))
    yield "cohort_ended_dm", blocks.cohort_ended_dm(channel)
    for changed, already in ((True, True), (False, True), (False, False)):
        settled = CohortSettled(channel, 6, time(23, 59), changed, already)
        yield "cohort_settled", blocks.cohort_settled(settled)
    yield "cohort_ended", blocks.cohort_ended()
    yield "cohort_lead_named", blocks.cohort_lead_named("U" + "X" * 31)
    yield "cohort_refused", blocks.cohort_refused()
    yield "cohort_not_in_channel", blocks.cohort_not_in_channel()
    for missing_scope in (True, False):
        yield "cohort_cannot_see_channel", blocks.cohort_cannot_see_channel(missing_scope)
    yield "not_a_cohort", blocks.not_a_cohort()
    several = with_a_second_capability(library)
    for choices in (library, several):
        yield "focus_list", blocks.focus_list(choices, choices.capabilities[-1])
    yield "focus_chosen", blocks.focus_chosen(several.capabilities[1])
    yield "focus_unknown", blocks.focus_unknown(text)
    yield "cohort_focus_set", blocks.cohort_focus_set(several.capabilities[1])
    yield "help_message several", blocks.help_message(several, typed=text, suggestion="focus")
    yield (
        "home_view several",
        blocks.home_view(
            several, active, progress, entries[:3], zone, now.date(), led, "other-capability"
        ),
    )
    shares = (CapabilityFigures(several.capabilities[0].id, BIG, BIG),)
    shares += (CapabilityFigures(several.capabilities[1].id, BIG, None),)
    several_figures = replace(figures, by_capability=shares)
    led_several = replace(led, figures=tuple(replace(c, figures=several_figures) for c in shown))
    yield (
        "home_view several leading",
        blocks.home_view(
            several,
            active,
            progress,
            entries[:3],
            zone,
            now.date(),
            led_several,
            "other-capability",
        ),
    )
    yield (
        "workspace_figures several",
        blocks.workspace_figures(several, replace(figures, by_capability=shares)),
    )
    yield "welcome several", blocks.welcome(several, False)
    yield "cohort_intro several", blocks.cohort_intro(several, CohortIntro(channel, active, False))
    for kind in ("practice", "tip"):
        yield "cohort_practice_post", blocks.cohort_practice_post(library, library.items(kind)[0])
    for on in (True, False):
        settled_practice = PracticeSettled(on, 6, time(23, 59), "America/Argentina/ComodRivadavia")
        yield "practice_settled", blocks.practice_settled(settled_practice)
    yield "practice_words", blocks.practice_words()
    for sample in (PreviewSample(channel, active), PreviewSample(None, stopped)):
        for message in blocks.previews(library, sample):
            yield "previews", message
    yield "preview_sent", blocks.preview_sent(BIG)
    yield "preview_refused", blocks.preview_refused()
    yield "preview_reply_not_kept", blocks.preview_reply_not_kept()
    yield "button_not_understood", blocks.button_not_understood()
    yield "reflection_too_long", blocks.reflection_too_long()
    yield "edit_too_long", blocks.edit_too_long()


BUILT: list[Callable[..., Any]] = [
    value
    for name, value in vars(blocks).items()
    if callable(value) and getattr(value, "__module__", "").startswith(blocks.__name__ + ".")
]


@pytest.mark.parametrize("text", WORST.values(), ids=WORST.keys())
def test_every_builder_stays_within_block_kit_limits_whatever_is_written(text: str) -> None:
    built = list(every_builder(text))
    for name, made in built:
        try:
            if isinstance(made, blocks.Message):
                check_message(made)
            else:
                check_view(made)
        except Exception as error:
            raise AssertionError(f"{name}: {error}") from error
    named = {name.split()[0] for name, _ in built}
    public = {f.__name__ for f in BUILT if not f.__name__.startswith("_")}
    not_blocks = {"Message", "cut", "escape", "long_date", "local_date", "export_markdown"}
    not_blocks |= {"cohort_modal_error"}  # a line of text under a modal's input
    assert public - not_blocks - named == set()  # a new builder joins this test


@pytest.mark.parametrize("text", WORST.values(), ids=WORST.keys())
def test_the_journal_and_home_escape_a_persons_words_before_cutting_them(text: str) -> None:
    library = load_library()
    zone = ZoneInfo("Pacific/Auckland")
    now = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    entries = [Entry(n, text, now, False, None, None) for n in range(10)]
    journal = blocks.journal(library, entries, zone, 0, True)
    for section in [b for b in journal.blocks if b["type"] == "section"][1:]:
        assert units(section["text"]["text"]) <= blocks.JOURNAL_EXCERPT
        assert_escaped(section["text"]["text"])
    home = blocks.home_view(
        library, ScheduleView("none"), Progress({}, {}, 0, 0), entries[:3], zone, now.date()
    )
    latest = [b for b in home["blocks"] if b["type"] == "context"][-3:]
    for context in latest:
        words = context["elements"][0]["text"].split(" · ", 1)[1]
        assert units(words) <= blocks.HOME_EXCERPT
        assert_escaped(words)


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("&amp;&amp;", 8, "&amp;…"),  # not "&amp;&a…"
        ("a&lt;b", 5, "a…"),
        ("ab👩🏽‍⚕️", 5, "ab…"),  # not a woman without her skin tone or her job
        ("x👩‍⚕️", 4, "x…"),  # not 👩 and a dangling joiner
        ("🇳🇿🇳🇿", 7, "🇳🇿…"),  # not half a flag
        ("e\u0301e\u0301e\u0301", 4, "e\u0301…"),  # not an accent without its letter
        ("🌿" * 1500, 3000, "🌿" * 1500),  # fits exactly
        ("🌿" * 1501, 3000, "🌿" * 1499 + "…"),
        ("plenty of room", 75, "plenty of room"),
    ],
)
def test_cut_never_splits_an_escape_an_emoji_or_a_flag(
    text: str, limit: int, expected: str
) -> None:
    assert blocks.cut(text, limit) == expected
    assert units(blocks.cut(text, limit)) <= limit


async def test_a_journal_of_3000_ampersands_still_opens_in_slack_and_on_home(
    app: RunningApp, clock: ManualClock
) -> None:
    # Slack sends "&" as "&amp;": 3,000 typed ampersands arrive as 15,000 characters.
    await say(app, dm("&amp;" * 3000, ts_at(DUE)))
    reply = await app.slack.slash("journal")
    check_message(blocks.Message(text=reply.json()["text"], blocks=reply.json()["blocks"]))
    app.sim.clear()
    home = {"id": "VHOME", "type": "home"}
    await app.slack.post(block_action_body(blocks.HOME_JOURNAL_ACTION, "journal", view=home))
    await app.settle()
    [opened] = app.sim.calls_to("views.open")
    check_view(opened.body["view"])
