"""Workspace figures for admins: counts only, never anyone's words or names."""

from __future__ import annotations

from bot.blocks.common import (
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
