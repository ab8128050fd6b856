"""When the next weekly nudge falls due, across time zones and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.timing import describe_local, next_send_after

NZ = ZoneInfo("Pacific/Auckland")
CHATHAM = ZoneInfo("Pacific/Chatham")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")
MONDAY, FRIDAY, SUNDAY = 0, 4, 6
WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ---------------------------------------------------------------- fixed cases


@pytest.mark.parametrize(
    ("after", "weekday", "local_time", "zone", "expected"),
    [
        # Auckland spring-forward, Sunday 27 Sep 2026: 02:30 does not exist, so 03:30 NZDT.
        ("2026-09-20T00:00", SUNDAY, time(2, 30), NZ, "2026-09-26T14:30"),
        # Auckland fall-back, Sunday 4 Apr 2027: 02:30 happens twice; the first is NZDT.
        ("2027-03-28T00:00", SUNDAY, time(2, 30), NZ, "2027-04-03T13:30"),
        ("2027-04-03T13:29:59", SUNDAY, time(2, 30), NZ, "2027-04-03T13:30"),
        # Chatham: +12:45 → +13:45 at 02:45 on 27 Sep 2026, so 03:00 becomes 04:00 +13:45.
        ("2026-09-20T00:00", SUNDAY, time(3, 0), CHATHAM, "2026-09-26T14:15"),
        ("2027-09-20T00:00", SUNDAY, time(3, 0), CHATHAM, "2027-09-25T14:15"),
        # Chatham: +13:45 → +12:45 at 03:45, 5 Apr 2026 and 4 Apr 2027; first 03:00 is +13:45.
        ("2026-04-01T00:00", SUNDAY, time(3, 0), CHATHAM, "2026-04-04T13:15"),
        ("2027-04-01T00:00", SUNDAY, time(3, 0), CHATHAM, "2027-04-03T13:15"),
        # New York fall-back 1 Nov 2026: 01:30 first happens in EDT (−4).
        ("2026-10-30T00:00", SUNDAY, time(1, 30), NEW_YORK, "2026-11-01T05:30"),
        # New York spring-forward 14 Mar 2027: 02:30 does not exist, so 03:30 EDT.
        ("2027-03-10T00:00", SUNDAY, time(2, 30), NEW_YORK, "2027-03-14T07:30"),
        # London spring-forward 28 Mar 2027: 01:30 does not exist, so 02:30 BST.
        ("2027-03-25T00:00", SUNDAY, time(1, 30), LONDON, "2027-03-28T01:30"),
        # Lord Howe's changes are 30 minutes: 02:15 → 02:45 (+11) on 4 Oct 2026.
        ("2026-10-01T00:00", SUNDAY, time(2, 15), LORD_HOWE, "2026-10-03T15:45"),
        # ... and 01:45 happens twice on 4 Apr 2027; the first is +11.
        ("2027-04-01T00:00", SUNDAY, time(1, 45), LORD_HOWE, "2027-04-03T14:45"),
        # Samoa skipped Friday 30 Dec 2011; the gap rule lands on Saturday 09:00 (+14).
        ("2011-12-25T00:00", FRIDAY, time(9, 0), APIA, "2011-12-30T19:00"),
        ("2011-12-30T18:00", FRIDAY, time(9, 0), APIA, "2011-12-30T19:00"),  # Sat 08:00 local
        ("2011-12-30T19:00", FRIDAY, time(9, 0), APIA, "2012-01-05T19:00"),
    ],
)
def test_due_instant_around_daylight_saving_changes(
    after: str, weekday: int, local_time: time, zone: ZoneInfo, expected: str
) -> None:
    assert next_send_after(utc(after), weekday, local_time, zone) == utc(expected)


@pytest.mark.parametrize(
    ("first", "zone", "local_time", "next_week"),
    [
        ("2027-04-03T13:30", NZ, time(2, 30), "2027-04-10T14:30"),
        ("2027-04-03T13:15", CHATHAM, time(3, 0), "2027-04-10T14:15"),
        ("2026-04-04T13:15", CHATHAM, time(3, 0), "2026-04-11T14:15"),
        ("2026-11-01T05:30", NEW_YORK, time(1, 30), "2026-11-08T06:30"),
        ("2027-04-03T14:45", LORD_HOWE, time(1, 45), "2027-04-10T15:15"),
    ],
)
def test_repeated_wall_time_is_sent_once_not_again_at_the_second_occurrence(
    first: str, zone: ZoneInfo, local_time: time, next_week: str
) -> None:
    assert next_send_after(utc(first), SUNDAY, local_time, zone) == utc(next_week)
    # Even asked from between the two occurrences, the second one is not a due time.
    between = utc(first) + timedelta(minutes=20)
    assert next_send_after(between, SUNDAY, local_time, zone) == utc(next_week)


def test_monday_nine_am_in_auckland_from_a_sunday() -> None:
    sunday_morning = datetime(2026, 6, 7, 10, 0, tzinfo=NZ)
    due = next_send_after(sunday_morning, MONDAY, time(9, 0), NZ)
    assert due == utc("2026-06-07T21:00")
    assert due.tzinfo is UTC
    assert due.astimezone(NZ) == datetime(2026, 6, 8, 9, 0, tzinfo=NZ)


def test_from_exactly_the_due_instant_the_next_is_a_week_later() -> None:
    assert next_send_after(utc("2026-06-07T21:00"), MONDAY, time(9, 0), NZ) == utc(
        "2026-06-14T21:00"
    )


def test_one_minute_before_the_due_instant_gives_that_same_day() -> None:
    assert next_send_after(utc("2026-06-07T20:59"), MONDAY, time(9, 0), NZ) == utc(
        "2026-06-07T21:00"
    )


def test_after_may_be_given_in_any_zone() -> None:
    instant = utc("2026-06-07T20:59")
    for zone in (NZ, NEW_YORK, timezone(timedelta(hours=5, minutes=30))):
        assert next_send_after(instant.astimezone(zone), MONDAY, time(9, 0), NZ) == utc(
            "2026-06-07T21:00"
        )


def test_fortnightly_from_the_previous_due_instant_skips_one_week() -> None:
    assert next_send_after(utc("2026-06-07T21:00"), MONDAY, time(9, 0), NZ, every_weeks=2) == utc(
        "2026-06-21T21:00"
    )


def test_fortnightly_stays_fortnightly_across_a_fall_back() -> None:
    # Mon 26 Oct 2026 09:00 EDT. One week on, 09:00 EST is 7 days + 1 hour later, so "first
    # due time after previous + 7 days" would send after only one week; we skip to 9 Nov.
    previous = utc("2026-10-26T13:00")
    assert next_send_after(previous, MONDAY, time(9, 0), NEW_YORK) == utc("2026-11-02T14:00")
    assert next_send_after(previous, MONDAY, time(9, 0), NEW_YORK, every_weeks=2) == utc(
        "2026-11-09T14:00"
    )


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({"after": datetime(2026, 6, 7, 9, 0)}, "timezone-aware"),
        ({"weekday": 7}, "weekday"),
        ({"weekday": -1}, "weekday"),
        ({"local_time": time(9, 0, tzinfo=UTC)}, "local_time"),
        ({"every_weeks": 0}, "every_weeks"),
    ],
)
def test_nonsense_arguments_are_refused(kwargs: dict[str, object], complaint: str) -> None:
    arguments: dict[str, object] = {
        "after": utc("2026-06-07T00:00"),
        "weekday": MONDAY,
        "local_time": time(9, 0),
        "zone": NZ,
        **kwargs,
    }
    with pytest.raises(ValueError, match=complaint):
        next_send_after(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("instant", "zone", "words"),
    [
        ("2024-12-02T19:30", NZ, "Tuesday 3 December, 8:30 am"),
        ("2026-06-07T21:00", NZ, "Monday 8 June, 9:00 am"),
        ("2026-06-08T00:00", NZ, "Monday 8 June, 12:00 pm"),
        ("2026-06-08T12:00", NZ, "Tuesday 9 June, 12:00 am"),
        ("2026-06-08T02:45", NZ, "Monday 8 June, 2:45 pm"),
        ("2026-06-08T11:59", NZ, "Monday 8 June, 11:59 pm"),
        ("2026-09-26T14:15", CHATHAM, "Sunday 27 September, 4:00 am"),
        ("2027-03-14T07:30", NEW_YORK, "Sunday 14 March, 3:30 am"),
    ],
)
def test_describe_local_reads_like_a_new_zealand_date(
    instant: str, zone: ZoneInfo, words: str
) -> None:
    assert describe_local(utc(instant), zone) == words


# ---------------------------------------------------------------- properties

NAMED = ("Pacific/Auckland", "Pacific/Chatham", "America/New_York", "Europe/London")
ODD = ("Australia/Lord_Howe", "Pacific/Apia", "Antarctica/Casey", "Antarctica/Troll")
# Weighted so about half the examples use the four named zones and a few use oddities.
ZONE_NAMES = sorted(available_timezones()) + list(NAMED) * 150 + list(ODD) * 15
zones = st.sampled_from(ZONE_NAMES).map(ZoneInfo)
after_zones = st.sampled_from(["UTC", "Pacific/Auckland", "America/New_York", "Asia/Kathmandu"])


@cache
def offset_changes(zone_name: str, year: int) -> tuple[datetime, ...]:
    """Instants in `year` when the zone's UTC offset changes (to the second)."""
    zone = ZoneInfo(zone_name)
    changes = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    before = day.astimezone(zone).utcoffset()
    while day.year == year:
        following = day + timedelta(hours=12)
        offset = following.astimezone(zone).utcoffset()
        if offset != before:
            low, high = day, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (
                    (middle, high)
                    if middle.astimezone(zone).utcoffset() == before
                    else (low, middle)
                )
            changes.append(high)
        before, day = offset, following
    return tuple(changes)


@st.composite
def requests(draw: st.DrawFn, quarter_hours: bool) -> tuple[datetime, int, time, ZoneInfo]:
    """(after, weekday, local_time, zone), often aimed at a gap or a repeat in the zone."""
    zone = draw(zones)
    year = draw(st.integers(2000, 2040))
    changes = offset_changes(zone.key, year)
    if changes and draw(st.integers(0, 3)) > 0:
        change = draw(st.sampled_from(changes))
        old_offset = (change - timedelta(seconds=1)).astimezone(zone).utcoffset()
        assert old_offset is not None
        wall_at_change = (change + old_offset).replace(tzinfo=None)
        wall = wall_at_change + QUARTER * draw(st.integers(-8, 8))
        wall -= timedelta(minutes=wall.minute % 15, seconds=wall.second)
        weekday = wall.weekday() if draw(st.integers(0, 4)) else draw(st.integers(0, 6))
        local_time = wall.time()
        after = change + timedelta(minutes=draw(st.integers(-8 * 24 * 60, 6 * 60)))
    else:
        weekday = draw(st.integers(0, 6))
        local_time = draw(st.times())
        after = draw(
            st.datetimes(min_value=datetime(year, 1, 1), max_value=datetime(year, 12, 31))
        ).replace(tzinfo=UTC)
    if quarter_hours:
        local_time = local_time.replace(
            minute=local_time.minute // 15 * 15, second=0, microsecond=0
        )
    elif draw(st.booleans()):
        local_time = local_time.replace(second=0, microsecond=0)
    return after.astimezone(ZoneInfo(draw(after_zones))), weekday, local_time, zone


def wall_exists(day: date, local_time: time, zone: ZoneInfo) -> bool:
    wall = datetime.combine(day, local_time)
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def fold0_instant(day: date, local_time: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, local_time, tzinfo=zone).astimezone(UTC)


def offset_spread(zone: ZoneInfo, start: datetime, end: datetime) -> timedelta:
    offsets = []
    instant = start
    while instant <= end + HOUR:
        offset = instant.astimezone(zone).utcoffset()
        assert offset is not None
        offsets.append(offset)
        instant += timedelta(minutes=30)
    return max(offsets) - min(offsets)


FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(requests(quarter_hours=True))
def test_due_instant_is_the_earliest_matching_time_after(
    case: tuple[datetime, int, time, ZoneInfo],
) -> None:
    after, weekday, local_time, zone = case
    due = next_send_after(after, weekday, local_time, zone)

    assert due.tzinfo is UTC
    assert due > after
    allowance = max(HOUR, offset_spread(zone, after - 2 * WEEK, due))
    assert due - after <= WEEK + allowance
    if zone.key in NAMED:
        assert due - after <= WEEK + HOUR

    local = due.astimezone(zone)
    day = local.date() if local.weekday() == weekday else local.date() - timedelta(days=1)
    assert day.weekday() == weekday
    assert due == fold0_instant(day, local_time, zone)
    if wall_exists(day, local_time, zone):
        assert (local.date(), local.time(), local.fold) == (day, local_time, 0)
        repeat = datetime.combine(day, local_time, tzinfo=zone).replace(fold=1).astimezone(UTC)
        assert due <= repeat  # when the wall time happens twice, we take the first
    else:
        assert local.replace(tzinfo=None) > datetime.combine(day, local_time)  # moved on by gap

    # Brute force: no first occurrence of the wall time on that weekday is skipped. Every offset
    # here is a whole number of quarter hours, so every such instant lies on a UTC quarter hour.
    instant = after.astimezone(UTC)
    instant = instant.replace(minute=instant.minute // 15 * 15, second=0, microsecond=0)
    while instant < due:
        if instant > after:
            seen = instant.astimezone(zone)
            assert not (
                seen.weekday() == weekday and seen.time() == local_time and seen.fold == 0
            ), f"skipped {instant.isoformat()}"
        instant += QUARTER

    # Day by day: no gap-shifted due time is skipped either.
    for offset in range(-3, 10):
        other = after.astimezone(zone).date() + timedelta(days=offset)
        if other.weekday() == weekday:
            assert not after < fold0_instant(other, local_time, zone) < due


@FAST
@given(requests(quarter_hours=False), st.integers(1, 4))
def test_due_instants_follow_one_another_week_by_week(
    case: tuple[datetime, int, time, ZoneInfo], every_weeks: int
) -> None:
    after, weekday, local_time, zone = case
    due = next_send_after(after, weekday, local_time, zone)

    # The due instant is itself the answer for any moment just before it.
    assert next_send_after(due - timedelta(microseconds=1), weekday, local_time, zone) == due
    assert next_send_after(after.astimezone(UTC), weekday, local_time, zone) == due

    # every_weeks=n is the n-th due instant after `after`.
    stepped = after
    for _week in range(every_weeks):
        stepped = next_send_after(stepped, weekday, local_time, zone)
    assert next_send_after(after, weekday, local_time, zone, every_weeks) == stepped

    # Away from offset changes, that is the first due instant after after + (n - 1) weeks.
    span = after - WEEK, stepped + WEEK
    if offset_spread(zone, *span) == timedelta(0):
        shifted = after + (every_weeks - 1) * WEEK
        assert stepped == next_send_after(shifted, weekday, local_time, zone)
        assert stepped - due == (every_weeks - 1) * WEEK
