"""Workspace figures for admins, and a cohort's for its leads: counts only, never anyone's words
or names."""

from __future__ import annotations

from bot.blocks.common import (
    Block,
    Message,
    _answered,
    _context,
    _section,
    plain,
)
from bot.content import Library
from bot.values import (
    MIN_GROUP,
    MONTH_NAMES,
    STATS_WEEKS,
    CohortFigures,
    WeekFigures,
    WorkspaceFigures,
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


def _figure_blocks(
    library: Library, figures: WorkspaceFigures, weeks_title: str, span: str
) -> list[Block]:
    """Subscribers, the reflection rate, nudges and reflections by week, and the items most
    reflected on; anything over fewer than MIN_GROUP people shows as too few."""
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
    return [
        _section(
            f"Subscribers: *{figures.subscribers}* ({figures.paused} paused)\n"
            f"Reflection rate, {span}: *{rate_text}*"
        ),
        _section(f"*{weeks_title}*\n```{chr(10).join(rows)}```{week_note}"),
        _section(f"*Items most often reflected on*\n{top_text}"),
        *_capability_blocks(library, figures),
    ]


def _capability_blocks(library: Library, figures: WorkspaceFigures) -> list[Block]:
    """Nudges and reflections by capability, only when there is more than one."""
    if not figures.by_capability:
        return []
    lines = []
    for share in figures.by_capability:
        title = library.capability(share.capability_id).title
        nudges = f"{share.nudges_sent} nudge{'s' if share.nudges_sent != 1 else ''} sent"
        if share.reflections is None:
            notes = "reflections: too few to show"
        else:
            notes = f"{share.reflections} reflection{'s' if share.reflections != 1 else ''}"
        lines.append(f"• {title}: {nudges}, {notes}")
    return [
        _section("*By capability*\n" + "\n".join(lines)),
        _context(
            f"A capability's reflections show once {MIN_GROUP} or more people got its nudges."
        ),
    ]


def workspace_figures(library: Library, figures: WorkspaceFigures) -> Message:
    """Counts only: never anyone's words or names."""
    blocks = [
        _section("*Leading Health nudges: workspace figures*"),
        _context("Counts only. Nobody's reflections or names are ever shown."),
        *_figure_blocks(
            library, figures, f"The last {STATS_WEEKS} weeks", f"last {STATS_WEEKS} weeks"
        ),
        _context(
            f"Season summaries sent: {figures.season_summaries}. "
            "They are private: only that one was sent is counted."
        ),
    ]
    return Message(text="Workspace figures for Leading Health nudges", blocks=blocks)


def cohort_figures(library: Library, cohort: CohortFigures) -> Message:
    """A cohort's counts for its leads: nothing at all beyond the head count under MIN_GROUP."""
    blocks = [
        _section(f"*Leading Health nudges: the cohort in <#{cohort.channel_id}>*"),
        _context("Counts only. Nobody's reflections or names are ever shown."),
        *cohort_figure_blocks(library, cohort),
    ]
    return Message(text="Cohort figures for Leading Health nudges", blocks=blocks)


def cohort_figure_blocks(library: Library, cohort: CohortFigures) -> list[Block]:
    """The figures themselves, as `stats` in the channel and the lead's Home tab show them."""
    if cohort.figures is None:
        return [
            _section(
                f"This cohort has fewer than {MIN_GROUP} members. Its figures show once it has "
                f"{MIN_GROUP} or more, so that nobody can be picked out."
            )
        ]
    weeks = len(cohort.figures.weeks)
    span = "since the cohort started" if weeks < STATS_WEEKS else f"last {weeks} weeks"
    return [
        _section(f"Members: *{cohort.members}*"),
        *_figure_blocks(library, cohort.figures, span[0].upper() + span[1:], span),
    ]


def figures_refused() -> Message:
    text = (
        "Workspace figures are for Slack workspace admins and owners. "
        "If you need them, ask one of your admins."
    )
    return plain(text)


def cohort_figures_refused() -> Message:
    return plain(
        "A cohort's figures are for its leads and the workspace's admins. "
        "If you need them, ask whoever started the cohort."
    )
