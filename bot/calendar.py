"""Public holidays, leave and working days: the calendar a nudge keeps to.

Pure functions, no clock, database or Slack. Holidays come from the `holidays` package: a region
is a country code with an optional subdivision ("NZ", "NZ-CAN", "AU-NSW", "GB-SCT"), and its
observed days count ("Waitangi Day (observed)" is a holiday on the Monday it is kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

# New Zealand's regions for the Home picker: the package's codes, named as people know them.
NZ_REGIONS: tuple[tuple[str, str], ...] = (
    ("NZ", "National holidays only"),
    ("NZ-NTL", "Northland"),
    ("NZ-AUK", "Auckland"),
    ("NZ-WKO", "Waikato"),
    ("NZ-BOP", "Bay of Plenty"),
    ("NZ-GIS", "Gisborne"),
    ("NZ-HKB", "Hawke's Bay"),
    ("NZ-TKI", "Taranaki"),
    ("NZ-MWT", "Manawatū-Whanganui"),
    ("NZ-WGN", "Wellington"),
    ("NZ-NSN", "Nelson"),
    ("NZ-TAS", "Tasman"),
    ("NZ-MBH", "Marlborough"),
    ("NZ-WTC", "West Coast"),
    ("NZ-CAN", "Canterbury"),
    ("NZ-South Canterbury", "South Canterbury"),
    ("NZ-OTA", "Otago"),
    ("NZ-STL", "Southland"),
    ("NZ-CIT", "Chatham Islands"),
)
REGION_NAMES = dict(NZ_REGIONS)
NO_HOLIDAYS = "none"  # a region with no public holidays: nudges keep to their day

# A status that means leave, unless LEAVE_STATUS_EMOJI / LEAVE_STATUS_WORDS say otherwise.
LEAVE_EMOJI = (
    ":palm_tree:",
    ":face_with_thermometer:",
    ":airplane:",
    ":desert_island:",
    ":beach_with_umbrella:",
)
LEAVE_WORDS = (
    "leave",
    "on leave",
    "annual leave",
    "holiday",
    "holidays",
    "sick",
    "vacation",
    "out of office",
)
# A status that clears within this long of the nudge's slot holds the nudge until it clears;
# a longer one (or one that never clears) skips that week.
SHORT_LEAVE = timedelta(days=3)


def split_region(region: str) -> tuple[str, str | None]:
    """ "NZ-CAN" -> ("NZ", "CAN"); "NZ" -> ("NZ", None)."""
    country, _, subdivision = region.strip().partition("-")
    return country.upper(), (subdivision or None)


def region_problem(region: str) -> str | None:
    """Why `region` is not a holiday region the package knows; None when it is."""
    if region.strip().lower() == NO_HOLIDAYS:
        return None
    country, subdivision = split_region(region)
    supported: dict[str, Any] = holidays.list_supported_countries()
    if country not in supported:
        return f"{region!r} is not a country code the holidays package knows, e.g. NZ or NZ-CAN"
    if subdivision is not None and subdivision not in supported[country]:
        return f"{region!r}: {country} has no region {subdivision!r}, e.g. NZ-CAN"
    return None


def region_choices(default: str, current: str | None = None) -> tuple[str, ...]:
    """The regions a person may choose in Home: New Zealand's, the workspace default and the
    one they have now when either is not among those, and no public holidays at all."""
    choices = [code for code, _ in NZ_REGIONS]
    for region in (default, current):
        if region is not None and region not in (*choices, NO_HOLIDAYS):
            choices.append(region)
    choices.append(NO_HOLIDAYS)
    return tuple(choices)


def region_label(region: str) -> str:
    if region.strip().lower() == NO_HOLIDAYS:
        return "No public holidays"
    return REGION_NAMES.get(region, region)


@lru_cache(maxsize=512)
def _year(region: str, year: int) -> tuple[dict[date, str], frozenset[int]]:
    """The holidays of one region and year, and its weekend days (0 = Monday)."""
    if region.strip().lower() == NO_HOLIDAYS:
        return {}, frozenset({5, 6})
    country, subdivision = split_region(region)
    calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    days = {day: _one_name(name) for day, name in calendar.items()}
    weekend = frozenset(getattr(calendar, "weekend", None) or {5, 6})
    return days, weekend


def _one_name(name: str) -> str:
    # Two holidays on one day come joined with "; ": the first names the day.
    return name.split(";")[0].strip()


def holiday_on(day: date, region: str) -> str | None:
    """The public holiday on `day` in `region`, by name; None on any other day."""
    return _year(region, day.year)[0].get(day)


def working_day(day: date, region: str) -> bool:
    days, weekend = _year(region, day.year)
    return day.weekday() not in weekend and day not in days


def next_working_day(after: date, region: str) -> date:
    """The first working day after `after` (not a weekend, not a public holiday)."""
    day = after + timedelta(days=1)
    for _ in range(60):  # no region has two months without a working day
        if working_day(day, region):
            return day
        day += timedelta(days=1)
    return day


def at_local(day: date, local_time: time, zone: ZoneInfo) -> datetime:
    """`local_time` on `day` in `zone`, as UTC (fold=0, as the weekly schedule has it)."""
    return datetime.combine(day, local_time.replace(fold=0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Holiday:
    name: str
    moved_to: datetime  # the next working day, at the usual local time


def holiday_move(due: datetime, local_time: time, zone: ZoneInfo, region: str) -> Holiday | None:
    """A nudge due on a public holiday (in the person's own zone and region) moves to the next
    working day at the same local time; None when `due` is not on a holiday."""
    day = due.astimezone(zone).date()
    name = holiday_on(day, region)
    if name is None:
        return None
    return Holiday(name, at_local(next_working_day(day, region), local_time, zone))


def after_leave(until: datetime, local_time: time, zone: ZoneInfo, region: str) -> datetime:
    """The first working day's usual local time after a leave status clears at `until`."""
    day = until.astimezone(zone).date()
    same_day = at_local(day, local_time, zone)
    if same_day > until and working_day(day, region):
        return same_day
    return at_local(next_working_day(day, region), local_time, zone)


def leave_in_status(
    emoji: str | None,
    text: str | None,
    leave_emoji: Iterable[str] = LEAVE_EMOJI,
    leave_words: Iterable[str] = LEAVE_WORDS,
) -> bool:
    """Whether a Slack status says its owner is away: one of the emoji, or one of the words
    (whole words, any case) in its text."""
    emoji_set, pattern = _leave_rule(tuple(leave_emoji), tuple(leave_words))
    if emoji and emoji.strip().lower() in emoji_set:
        return True
    return bool(text) and pattern is not None and pattern.search(text or "") is not None


@lru_cache(maxsize=16)
def _leave_rule(
    leave_emoji: tuple[str, ...], leave_words: tuple[str, ...]
) -> tuple[frozenset[str], re.Pattern[str] | None]:
    """The lists as a set and one pattern, made once (a pass asks for every person due)."""
    words = [re.escape(word.strip()) for word in leave_words if word.strip()]
    pattern = re.compile(rf"\b(?:{'|'.join(words)})\b", re.IGNORECASE) if words else None
    return frozenset(item.strip().lower() for item in leave_emoji), pattern


def names(values: str | None, defaults: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated setting as a tuple; unset or blank: the defaults."""
    if values is None or not values.strip():
        return defaults
    return tuple(value.strip() for value in values.split(",") if value.strip())
