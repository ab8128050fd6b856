"""The calendar's rules as plain values: holidays, working days, leave in a status, and a year
of weekly nudges checked against a brute-force reference built straight from the holidays
package (Hypothesis)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.calendar import (
    after_leave,
    holiday_move,
    holiday_on,
    leave_in_status,
    names,
    next_working_day,
    region_label,
    region_problem,
)
from bot.config import ConfigError, load_settings
from bot.content import load_library
from bot.services.dispatch.planning import Away, Due, History, Moved, plan
from bot.services.profiles import instant
from bot.services.timing import next_send_after

NOTHING = History(seen={}, nudged={}, reflected={})
LIBRARY = load_library()


def test_observed_holidays_count_and_regions_differ() -> None:
    assert holiday_on(date(2027, 2, 6), "NZ") == "Waitangi Day"
    assert holiday_on(date(2027, 2, 8), "NZ") == "Waitangi Day (observed)"
    assert holiday_on(date(2026, 11, 13), "NZ-CAN") == "Canterbury Anniversary Day"
    assert holiday_on(date(2026, 11, 13), "NZ-AUK") is None
    assert holiday_on(date(2026, 11, 13), "none") is None
    # Boxing Day 2026 is a Saturday, kept on Monday 28th: the next working day after
    # Christmas is Tuesday 29 December.
    assert next_working_day(date(2026, 12, 25), "NZ") == date(2026, 12, 29)
    # Other countries' codes work too.
    assert holiday_on(date(2026, 11, 26), "US-NY") == "Thanksgiving Day"
    assert "Andrew" in (holiday_on(date(2026, 11, 30), "GB-SCT") or "")


def test_a_region_is_checked_and_named() -> None:
    assert region_problem("NZ-CAN") is None and region_problem("none") is None
    assert region_problem("AU-NSW") is None
    assert "NZ has no region 'XYZ'" in (region_problem("NZ-XYZ") or "")
    assert "not a country code" in (region_problem("QQ") or "")
    assert region_label("NZ-MWT") == "Manawatū-Whanganui"
    assert region_label("none") == "No public holidays"
    assert region_label("AU-NSW") == "AU-NSW"


def test_default_holiday_region_is_checked_at_start_up_in_one_line() -> None:
    assert load_settings().default_holiday_region == "NZ"
    assert load_settings(default_holiday_region="NZ-CAN").default_holiday_region == "NZ-CAN"
    with pytest.raises(ConfigError) as raised:
        load_settings(default_holiday_region="NZ-NOWHERE")
    assert str(raised.value).startswith("Configuration error: DEFAULT_HOLIDAY_REGION: ")
    assert "\n" not in str(raised.value)


def test_leave_lists_come_from_settings_or_our_own() -> None:
    assert names(None, ("a",)) == ("a",) and names("  ", ("a",)) == ("a",)
    assert names(" :surfer: ,, :boat:", ()) == (":surfer:", ":boat:")
    settings_ = load_settings(leave_status_words="rostered off", leave_status_emoji="")
    assert settings_.leave_words == ("rostered off",)
    assert ":palm_tree:" in settings_.leave_emoji
    assert leave_in_status("", "Rostered OFF", (), settings_.leave_words)
    assert not leave_in_status("", "anything", (), ())
    assert not leave_in_status(None, None)


def test_slack_times_that_are_not_instants_are_none() -> None:
    assert instant(0) is None and instant(None) is None and instant("soon") is None
    assert instant(True) is None
    assert instant(1e20) is None  # past the calendar's end
    assert instant(1_800_000_000) == datetime(2027, 1, 15, 8, 0, tzinfo=UTC)


def test_leave_ends_at_the_usual_time_on_a_working_day() -> None:
    zone = ZoneInfo("Pacific/Auckland")
    nine = time(9, 0)
    # Clears Wednesday 8 am: Wednesday 9 am. Clears Wednesday 10 am: Thursday 9 am.
    wednesday = date(2026, 12, 9)
    at = datetime.combine(wednesday, time(8, 0), tzinfo=zone)
    assert after_leave(at, nine, zone, "NZ") == datetime.combine(wednesday, nine, tzinfo=zone)
    at = datetime.combine(wednesday, time(10, 0), tzinfo=zone)
    assert after_leave(at, nine, zone, "NZ") == datetime.combine(
        date(2026, 12, 10), nine, tzinfo=zone
    )
    # Clears on Christmas Eve evening: Tuesday 29 December.
    at = datetime.combine(date(2026, 12, 24), time(18, 0), tzinfo=zone)
    assert after_leave(at, nine, zone, "NZ").astimezone(zone).date() == date(2026, 12, 29)


def test_a_wait_that_would_reach_next_weeks_nudge_skips_the_week_instead() -> None:
    zone = ZoneInfo("Pacific/Auckland")
    slot = datetime(2026, 12, 7, 9, 0, tzinfo=zone).astimezone(UTC)
    due = Due(1, "T", "U", slot, 0, time(9, 0), zone, 1, 0, False, None, region="NZ")
    # Leave clearing 2 days 23 hours after Monday 9 am, the day before a long holiday run.
    until = slot + timedelta(days=2, hours=23)
    planned = plan(replace(due, away=Away(True, until)), slot, NOTHING, LIBRARY, random.Random(1))
    assert planned.status == "held" and planned.hold == "leave"
    # A wait on the schedule's last held week running past the next slot: skipped.
    late = Moved(slot, "leave", slot)
    moved = replace(due, due_at=slot + timedelta(days=6, hours=23), moved=late)
    dnd = moved.due_at + timedelta(hours=2)
    planned = plan(
        replace(moved, away=Away(dnd_until=dnd)), moved.due_at, NOTHING, LIBRARY, random.Random(1)
    )
    assert planned.status == "missed"  # 12 hours and more after the slot's own wait began


# --- a year of nudges against a brute-force reference -----------------------------------

ZONES = ["Pacific/Auckland", "Pacific/Chatham", "Europe/London", "America/New_York"]
REGIONS = ["NZ", "NZ-CAN", "NZ-CIT", "NZ-AUK", "NZ-WGN", "GB-ENG", "US-NY", "AU-NSW"]


def reference(
    first: datetime, weekday: int, at: time, zone: ZoneInfo, region: str, weeks: int
) -> list[datetime]:
    """Each weekly slot, or when it is on a public holiday, the first later day that is no
    weekend and no holiday, at the same local time: straight from the holidays package."""
    country, _, subdivision = region.partition("-")
    table = holidays.country_holidays(
        country, subdiv=subdivision or None, years=range(first.year - 1, first.year + 3)
    )
    sends = []
    slot = first
    for _ in range(weeks):
        day = slot.astimezone(zone).date()
        if day in table:
            day += timedelta(days=1)
            while day.weekday() >= 5 or day in table:
                day += timedelta(days=1)
            send = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        else:
            send = slot
        following = next_send_after(slot, weekday, at, zone)
        if send < following:
            sends.append(send)
        slot = following
    return sends


def simulate(due: Due, weeks: int) -> tuple[list[datetime], list[str]]:
    """The dispatcher's decisions, a pass at each due instant; what went, and any problem."""
    sends: list[datetime] = []
    problems = []
    end = next_send_after(due.due_at, due.weekday, due.local_time, due.zone, every_weeks=weeks)
    while due.due_at < end:
        planned = plan(due, due.due_at, NOTHING, LIBRARY, random.Random(1))
        if planned.status == "held":
            assert planned.moved is not None
            if planned.next_due_at <= due.due_at:
                problems.append(f"a hold that does not move on at {due.due_at}")
                break
            due = replace(due, due_at=planned.next_due_at, moved=planned.moved)
            continue
        if planned.status == "pending":
            sends.append(due.due_at)
        else:
            problems.append(f"{planned.status} at {due.due_at}")
        if planned.unanswered != due.unanswered or planned.every_weeks != due.every_weeks:
            problems.append("a hold touched the back-off counters")
        due = replace(due, due_at=planned.next_due_at, moved=None)
    return sends, problems


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    region=st.sampled_from(REGIONS),
    weekday=st.integers(0, 6),
    minutes=st.integers(0, 24 * 60 - 1).map(lambda m: m - m % 15),
    start=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
)
def test_a_year_of_weekly_nudges_matches_the_reference(
    zone: str, region: str, weekday: int, minutes: int, start: date
) -> None:
    tz = ZoneInfo(zone)
    at = time(minutes // 60, minutes % 60)
    after = datetime.combine(start, time(0, 0), tzinfo=tz).astimezone(UTC)
    first = next_send_after(after, weekday, at, tz)
    due = Due(1, "T", "U", first, weekday, at, tz, 1, 1, False, None, region=region)
    sends, problems = simulate(due, 52)
    assert not problems
    assert sends == reference(first, weekday, at, tz, region, 52)
    for send in sends:  # never on a public holiday in the person's own calendar
        assert holiday_move(send, at, tz, region) is None
    gaps = [b - a for a, b in pairwise(sends)]
    assert all(gap >= timedelta(hours=12) for gap in gaps)
