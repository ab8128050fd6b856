"""Reading the words after `/leading-tip weekly` and `/leading-tip pause`."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.schedule_words import (
    PauseChoice,
    WeeklyChoice,
    WordsError,
    format_time,
    parse_pause,
    parse_weekly,
    weekday_name,
)

TODAY = date(2026, 12, 1)
PAUSE_HELP = (
    "Pause for 1 to 12 weeks, e.g. `/leading-tip pause 2`, "
    "or until a date: `/leading-tip pause until 2027-01-20`."
)


def words(text: str) -> list[str]:
    return text.split()


def weekly_error(text: str) -> str:
    with pytest.raises(WordsError) as caught:
        parse_weekly(words(text))
    return caught.value.message


def pause_error(text: str, today: date = TODAY) -> str:
    with pytest.raises(WordsError) as caught:
        parse_pause(words(text), today)
    return caught.value.message


# ---------------------------------------------------------------- weekly: days


@pytest.mark.parametrize(
    ("typed", "weekday"),
    [
        ("mon", 0), ("monday", 0), ("Mondays", 0), ("MON", 0),
        ("tue", 1), ("tues", 1), ("Tuesday", 1), ("tuesdays", 1),
        ("wed", 2), ("weds", 2), ("wednesday", 2), ("WEDNESDAYS", 2),
        ("thu", 3), ("thur", 3), ("thurs", 3), ("thursday", 3), ("Thursdays", 3),
        ("fri", 4), ("friday", 4), ("fridays", 4),
        ("sat", 5), ("saturday", 5), ("Saturdays", 5),
        ("sun", 6), ("sunday", 6), ("sundays", 6),
    ],
)  # fmt: skip
def test_day_spellings_alone_keep_the_nine_am_default(typed: str, weekday: int) -> None:
    assert parse_weekly([typed]) == WeeklyChoice(weekday, time(9, 0))


def test_no_words_means_monday_at_nine() -> None:
    assert parse_weekly([]) == WeeklyChoice(weekday=0, local_time=time(9, 0))


# ---------------------------------------------------------------- weekly: times


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("9am", time(9, 0)), ("9 am", time(9, 0)), ("9AM", time(9, 0)), ("9 PM", time(21, 0)),
        ("9a.m.", time(9, 0)), ("9 p.m.", time(21, 0)), ("9:30am", time(9, 30)),
        ("9.30am", time(9, 30)), ("9:30 pm", time(21, 30)), ("930am", time(9, 30)),
        ("0930am", time(9, 30)), ("12am", time(0, 0)), ("12pm", time(12, 0)),
        ("12:15am", time(0, 15)), ("12:45 pm", time(12, 45)), ("1pm", time(13, 0)),
        ("14:30", time(14, 30)), ("9:30", time(9, 30)), ("09:30", time(9, 30)),
        ("8.30", time(8, 30)), ("0:00", time(0, 0)), ("23:59", time(23, 59)),
        ("0930", time(9, 30)), ("930", time(9, 30)), ("1430", time(14, 30)),
        ("0000", time(0, 0)), ("14", time(14, 0)), ("23", time(23, 0)),
        ("noon", time(12, 0)), ("Midday", time(12, 0)), ("midnight", time(0, 0)),
        ("12 noon", time(12, 0)), ("12noon", time(12, 0)), ("12:00 Midnight", time(0, 0)),
    ],
)  # fmt: skip
def test_time_spellings_alone_keep_the_monday_default(typed: str, expected: time) -> None:
    assert parse_weekly(words(typed)) == WeeklyChoice(0, expected)


@pytest.mark.parametrize(
    "text",
    ["tue 8:30", "8:30 tue", "tuesday 8.30am", "8.30 am tuesday", "Tues 0830", "0830 tues"],
)
def test_day_and_time_can_come_in_either_order(text: str) -> None:
    assert parse_weekly(words(text)) == WeeklyChoice(1, time(8, 30))


@pytest.mark.parametrize(
    "args",
    [
        ["every", "thursday", "at", "2:30", "pm"],
        ["Thursdays", "at", "2:30pm"],
        ["thu,", "14:30"],
        ["thu 2:30 pm"],  # one unsplit string is split too
        ["  thurs  ", "", "2.30pm"],
    ],
)
def test_small_words_and_stray_spacing_are_skipped(args: list[str]) -> None:
    assert parse_weekly(args) == WeeklyChoice(3, time(14, 30))


# ---------------------------------------------------------------- weekly: mistakes


def test_an_unknown_day_is_named_with_an_example() -> None:
    assert weekly_error("funday") == (
        "I didn't recognise “funday” as a day. Try a day like `tue` or `thursday`, "
        "e.g. `/leading-tip weekly tue 8:30`."
    )


@pytest.mark.parametrize(
    "typed",
    ["25:00", "9:75", "13pm", "0am", "24:00", "13:60", "2400", "99", "0", "12345", "am", "9:5",
     "00am", "9:30xm", "1:2:3"],
)  # fmt: skip
def test_impossible_times_are_refused(typed: str) -> None:
    assert weekly_error(f"tue {typed}") == (
        f"“{typed}” isn't a time of day. Try 24-hour time like `14:30`, or `9am`."
    )


def test_the_worked_example_for_a_bad_time() -> None:
    assert weekly_error("25:00") == (
        "“25:00” isn't a time of day. Try 24-hour time like `14:30`, or `9am`."
    )


def test_am_pm_as_its_own_word_is_checked_with_its_number() -> None:
    assert weekly_error("tue 13 pm") == (
        "“13 pm” isn't a time of day. Try 24-hour time like `14:30`, or `9am`."
    )


@pytest.mark.parametrize("hour", range(1, 13))
def test_a_bare_hour_that_could_be_morning_or_evening_asks_which(hour: int) -> None:
    assert weekly_error(f"wed {hour}") == (
        f"“{hour}” could be morning or evening. "
        f"Try `{hour}am` or `{hour}pm`, or 24-hour time like `14:30`."
    )


@pytest.mark.parametrize("text", ["tue fri", "monday 9am sunday", "wed wednesday"])
def test_two_days_are_refused(text: str) -> None:
    assert weekly_error(text) == (
        "Pick one day for your weekly tip, e.g. `/leading-tip weekly tue 8:30`."
    )


@pytest.mark.parametrize("text", ["9am 10am", "tue 9 am 14:30", "noon midday"])
def test_two_times_are_refused(text: str) -> None:
    assert weekly_error(text) == (
        "Pick one time for your weekly tip, e.g. `/leading-tip weekly tue 8:30`."
    )


def test_a_long_ramble_is_refused() -> None:
    assert weekly_error("please send me a tip every tuesday morning at nine") == (
        "I only need a day and a time, e.g. `/leading-tip weekly tue 8:30`."
    )


def test_an_unknown_word_beside_good_ones_is_named() -> None:
    assert weekly_error("tue 9am please").startswith("I didn't recognise “please” as a day.")


def test_long_words_are_cut_short_when_echoed() -> None:
    typed = "x" * 200
    message = weekly_error(typed)
    assert f"“{'x' * 29}…”" in message
    assert "x" * 31 not in message
    long_time = "1" + ":" * 100
    assert f"“{long_time[:29]}…”" in weekly_error(long_time)


@pytest.mark.parametrize(
    "text", ["funday", "25:00", "9", "tue fri", "9am 10am", "a b c d e f g h i", "13 pm"]
)
def test_weekly_messages_are_calm_and_brief(text: str) -> None:
    message = weekly_error(text)
    assert "!" not in message
    assert len(message) <= 140


def test_words_error_is_a_value_error_carrying_its_message() -> None:
    with pytest.raises(ValueError, match="funday"):
        parse_weekly(["funday"])


# ---------------------------------------------------------------- pause


@pytest.mark.parametrize(
    ("args", "weeks"),
    [
        ([], 1), (["1"], 1), (["3"], 3), (["12"], 12), (["3", "weeks"], 3), (["1", "week"], 1),
        (["2w"], 2), (["2wks"], 2), (["for", "4", "weeks"], 4), (["06"], 6), (["5", "WEEKS"], 5),
    ],
)  # fmt: skip
def test_pause_for_a_number_of_weeks(args: list[str], weeks: int) -> None:
    assert parse_pause(args, TODAY) == PauseChoice(weeks=weeks)


@pytest.mark.parametrize(
    "text", ["-3", "0", "13", "100", "3.5", "two", "3 days", "3 weeks please", "2027-01-20", "w"]
)
def test_pause_weeks_out_of_range_or_unreadable_show_the_help(text: str) -> None:
    assert pause_error(text) == PAUSE_HELP


@pytest.mark.parametrize(
    ("args", "until"),
    [
        (["until", "2027-01-20"], date(2027, 1, 20)),
        (["Until", "2026-12-02"], date(2026, 12, 2)),
        (["until", "2027-12-01"], date(2027, 12, 1)),
        (["until", "20/01/2027"], date(2027, 1, 20)),
        (["until", "2027-1-5"], date(2027, 1, 5)),
        (["until 2027-01-20"], date(2027, 1, 20)),
    ],
)
def test_pause_until_a_date(args: list[str], until: date) -> None:
    assert parse_pause(args, TODAY) == PauseChoice(until=until)


@pytest.mark.parametrize("typed", ["2026-11-30", "2026-12-01", "1/12/2026"])
def test_pause_until_today_or_earlier_is_refused(typed: str) -> None:
    assert pause_error(f"until {typed}") == (
        "Pick a date after today, e.g. `/leading-tip pause until 2026-12-15`."
    )


def test_pause_for_more_than_a_year_is_refused() -> None:
    assert pause_error("until 2027-12-02") == (
        "I can pause for up to a year, so pick a date by 2027-12-01, "
        "e.g. `/leading-tip pause until 2026-12-15`."
    )


def test_a_year_from_the_29th_of_february_is_the_28th() -> None:
    leap_day = date(2028, 2, 29)
    assert parse_pause(["until", "2029-02-28"], leap_day) == PauseChoice(until=date(2029, 2, 28))
    assert "pick a date by 2029-02-28" in pause_error("until 2029-03-01", leap_day)


@pytest.mark.parametrize(
    "typed", ["2027-02-30", "2027-13-01", "tomorrow", "20-01-2027", "1/20/2027"]
)
def test_pause_until_a_bad_date_is_refused(typed: str) -> None:
    assert pause_error(f"until {typed}") == (
        f"“{typed}” isn't a date I can read. "
        "Try year-month-day, e.g. `/leading-tip pause until 2027-01-20`."
    )


def test_pause_until_needs_a_date() -> None:
    assert pause_error("until") == (
        "Add a date after “until”, e.g. `/leading-tip pause until 2027-01-20`."
    )


def test_pause_until_takes_one_date_only() -> None:
    assert pause_error("until 2027-01-20 2027-02-01") == f"I only need one date. {PAUSE_HELP}"


def test_pause_echo_is_cut_short() -> None:
    message = pause_error("until " + "9" * 100)
    assert f"“{'9' * 29}…”" in message


# ---------------------------------------------------------------- names for replies


@pytest.mark.parametrize(
    ("weekday", "name"),
    [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
     (5, "Saturday"), (6, "Sunday")],
)  # fmt: skip
def test_weekday_name(weekday: int, name: str) -> None:
    assert weekday_name(weekday) == name


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (time(9, 0), "9:00 am"), (time(14, 30), "2:30 pm"), (time(12, 0), "12:00 pm"),
        (time(0, 0), "12:00 am"), (time(0, 5), "12:05 am"), (time(12, 59), "12:59 pm"),
        (time(23, 59), "11:59 pm"), (time(11, 59), "11:59 am"), (time(1, 0), "1:00 am"),
    ],
)  # fmt: skip
def test_format_time_is_twelve_hour_with_lowercase_am_pm(value: time, shown: str) -> None:
    assert format_time(value) == shown


@pytest.mark.parametrize("value", [time(h, m) for h in range(24) for m in (0, 1, 15, 30, 59)])
def test_formatted_times_read_back_as_the_same_time(value: time) -> None:
    assert parse_weekly(format_time(value).split()) == WeeklyChoice(0, value)
