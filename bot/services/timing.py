"""When the next weekly nudge is due, worked out in the person's own time zone.

Pure functions over aware datetimes; no clock, database or Slack here.
DST rules come straight from zoneinfo with fold=0: a wall time skipped by a spring-forward
gap lands later by the size of the gap, and a wall time repeated at fall-back means the
first occurrence only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The wording of days and times is pure, and lives with the values the renderer reads.
from bot.values import MONTH_NAMES as MONTH_NAMES
from bot.values import WEEKDAY_NAMES as WEEKDAY_NAMES
from bot.values import describe_local as describe_local
from bot.values import format_time as format_time
from bot.values import still_paused as still_paused
from bot.values import weekday_name as weekday_name

WEEK = timedelta(days=7)
# A nudge goes out at most this late; one due earlier is recorded as missed, not sent.
MAX_LATE = timedelta(hours=12)
# Never two nudges closer together than this, whatever changes in between.
MIN_GAP = timedelta(hours=12)


def due_on(day: date, local_time: time, zone: ZoneInfo) -> datetime:
    """`local_time` on `day` in `zone`, as UTC (fold=0: past a gap, or first of a repeat)."""
    wall = datetime.combine(day, local_time.replace(fold=0), tzinfo=zone)
    return wall.astimezone(UTC)


def _next_once(after: datetime, weekday: int, local_time: time, zone: ZoneInfo) -> datetime:
    local_day = after.astimezone(zone).date()
    # Look a little either side: a gap can push a day's due instant past midnight (Pacific/Apia
    # skipped 30 December 2011), and taking the minimum does not rely on the dates being in order.
    first = local_day - timedelta(days=2)
    first += timedelta(days=(weekday - first.weekday()) % 7)
    candidates = (due_on(first + k * WEEK, local_time, zone) for k in range(3))
    return min(instant for instant in candidates if instant > after)


def next_send_after(
    after: datetime,
    weekday: int,
    local_time: time,
    zone: ZoneInfo,
    every_weeks: int = 1,
) -> datetime:
    """The first due instant (UTC) strictly after `after`, on `weekday` (0=Monday) at `local_time`.

    With `every_weeks=n` it is the n-th such instant after `after`, so a caller passing the
    previous due instant gets the one n weeks on, even when a DST change falls in between.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be timezone-aware")
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {weekday!r}")
    if local_time.tzinfo is not None:
        raise ValueError("local_time must be a wall-clock time without tzinfo")
    if every_weeks < 1:
        raise ValueError(f"every_weeks must be at least 1, not {every_weeks!r}")
    due = after.astimezone(UTC)
    for _week in range(every_weeks):
        due = _next_once(due, weekday, local_time, zone)
    return due


def weeks_later(instant: datetime, weeks: int, zone: ZoneInfo) -> datetime:
    """The same wall-clock time `weeks` calendar weeks on in `zone`, as UTC.

    A week is seven local days, not 168 hours: across a DST change it is 167 or 169 hours
    (fold=0 again: a wall time in a gap lands later by the gap, a repeated one is the first).
    """
    wall = instant.astimezone(zone).replace(tzinfo=None) + weeks * WEEK
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The last instant of local `day` in `zone` (UTC): a due instant after it is on a later day."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return next_midnight.astimezone(UTC) - timedelta(microseconds=1)


def pause_through(end: datetime, weekday: int, local_time: time, zone: ZoneInfo) -> date:
    """The last local day of a pause that ends at the instant `end`.

    That is `end`'s own day, unless the nudge falls later on that same day: then the pause
    ends the day before, so "paused until" and "next nudge" always agree.
    """
    day = end.astimezone(zone).date()
    first = next_send_after(end, weekday, local_time, zone)
    return day - timedelta(days=1) if first.astimezone(zone).date() == day else day


def slot_day(due: datetime, weekday: int, zone: ZoneInfo) -> date:
    """The local date in `zone` of the weekly slot that `due` stands for: its own date, or the
    latest day before it with the right weekday (a gap, a late start or a floor can move a due
    instant past midnight, never by a week)."""
    local = due.astimezone(zone).date()
    return local - timedelta(days=(local.weekday() - weekday) % 7)


def retimed_for_zone(
    due: datetime,
    weekday: int,
    local_time: time,
    old_zone: ZoneInfo,
    new_zone: ZoneInfo,
    not_before: datetime,
) -> datetime:
    """A due instant set in `old_zone`, moved to the same local day and time in `new_zone`.

    Never before `not_before` (now, and 12 hours after the previous nudge): when the new zone's
    slot has already gone by, this week's nudge goes out late rather than not at all, and the
    week after comes from the schedule as usual, so a move never brings two in one week.
    """
    moved = due_on(slot_day(due, weekday, old_zone), local_time, new_zone)
    return max(moved, not_before)
