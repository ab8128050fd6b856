"""The words after `/leading-tip weekly` and `/leading-tip pause`, read into plain choices.

Accepted times (any case, as one word or with am/pm as a separate word):
- 12-hour with am/pm: `9am`, `9 am`, `9:30am`, `9.30am`, `930am`, `9a.m.`; hour 1–12
  (`12am` is midnight, `12pm` is noon).
- 24-hour: `14:30`, `9:30`, `09.30`, and digits only with three or four figures, `0930`, `930`,
  `1430`; hour 0–23.
- A bare hour 13–23 (`14`) is taken as on the hour; a bare 1–12 (`9`) is refused as
  ambiguous, with a hint to add am or pm.
- `noon` or `midday` for 12:00 and `midnight` for 00:00, also after 12 (`12 noon`,
  `12:00 midnight`).
Days may be abbreviated with a full stop (`Tue.`).
The filler words `at`, `on`, `every` and `each` are skipped ("every tuesday at 9am").

Messages are mrkdwn: anything typed that they repeat is escaped for Slack, so `<!here>` typed
shows as typed and mentions nobody.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.slack_text import escape
from bot.values import format_time, weekday_name

__all__ = [
    "PauseChoice",
    "WeeklyChoice",
    "WordsError",
    "format_time",
    "parse_pause",
    "parse_weekly",
    "weekday_name",
]

DEFAULT_WEEKDAY = 0
DEFAULT_TIME = time(9, 0)
MAX_PAUSE_WEEKS = 12
MAX_WORDS = 8
ECHO_LIMIT = 30

WEEKLY_EXAMPLE = "`/leading-tip weekly tue 8:30`"
PAUSE_HELP = (
    "Pause for 1 to 12 weeks, e.g. `/leading-tip pause 2`, "
    "or until a date: `/leading-tip pause until 2027-01-20`."
)

_DAY_WORDS: dict[str, int] = {}
for _number, _spellings in enumerate(
    (
        ("mon", "monday"),
        ("tue", "tues", "tuesday"),
        ("wed", "weds", "wednesday"),
        ("thu", "thur", "thurs", "thursday"),
        ("fri", "friday"),
        ("sat", "saturday"),
        ("sun", "sunday"),
    )
):
    for _spelling in _spellings:
        _DAY_WORDS[_spelling] = _number
    _DAY_WORDS[_spellings[-1] + "s"] = _number  # "mondays"

_FILLER = frozenset({"at", "on", "every", "each"})
_NAMED_TIMES = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}
_NAMED_TIME = re.compile(r"^(?:12(?:[:.]?00)?)?(noon|midday|midnight)\.?$")
_TWELVE = re.compile(r"^12(?:[:.]?00)?$")
_SUFFIX = re.compile(r"^([ap])\.?m\.?$")
_TWELVE_HOUR = re.compile(r"^(\d{1,2})(?:[:.]?(\d{2}))?([ap])\.?m\.?$")
_TWENTY_FOUR_HOUR = re.compile(r"^(\d{1,2})[:.](\d{2})$")
_DIGITS = re.compile(r"^\d{1,4}$")
_WEEKS = re.compile(r"^(-?\d{1,4})(?:w|wk|wks|week|weeks)?$")  # int() refuses 4,300+ digits
_UNITS = frozenset({"w", "wk", "wks", "week", "weeks"})
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NZ_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class WordsError(ValueError):
    """Words we could not use; `message` is a short correction to show the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class WeeklyChoice:
    weekday: int
    local_time: time


@dataclass(frozen=True)
class PauseChoice:
    weeks: int | None = None
    until: date | None = None


def _quote(typed: str) -> str:
    """Echo at most ECHO_LIMIT characters of what the person typed, in curly quotes, with
    Slack's control characters escaped (after cutting, so no escape is cut in half)."""
    if len(typed) > ECHO_LIMIT:
        typed = typed[: ECHO_LIMIT - 1] + "…"
    return f"“{escape(typed)}”"


def _day(word: str) -> int | None:
    """The weekday a word names, if it does: `tue`, `Tuesday`, `Tue.`."""
    return _DAY_WORDS.get(word.lower().removesuffix("."))


def _words(args: Sequence[str]) -> list[str]:
    return [word.strip(",;") for arg in args for word in arg.split() if word.strip(",;")]


def _not_a_time(typed: str) -> WordsError:
    return WordsError(
        f"{_quote(typed)} isn't a time of day. Try 24-hour time like `14:30`, or `9am`."
    )


def _read_time(typed: str) -> time | None:
    """The time of day in `typed`, None if it isn't time-like, WordsError if it is but wrong."""
    word = typed.lower().replace(" ", "")
    if match := _NAMED_TIME.match(word):
        return _NAMED_TIMES[match[1]]
    if match := _TWELVE_HOUR.match(word):
        hour, minute = int(match[1]), int(match[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            raise _not_a_time(typed)
        return time(hour % 12 + (12 if match[3] == "p" else 0), minute)
    if match := _TWENTY_FOUR_HOUR.match(word):
        hour, minute = int(match[1]), int(match[2])
    elif _DIGITS.match(word) and len(word) >= 3:
        hour, minute = int(word[:-2]), int(word[-2:])
    elif _DIGITS.match(word):
        hour, minute = int(word), 0
        if 1 <= hour <= 12:
            raise WordsError(
                f"{_quote(typed)} could be morning or evening. "
                f"Try `{hour}am` or `{hour}pm`, or 24-hour time like `14:30`."
            )
        if hour == 0:
            raise _not_a_time(typed)
    elif any(ch.isdigit() for ch in word) or _SUFFIX.match(word):
        raise _not_a_time(typed)
    else:
        return None
    if hour > 23 or minute > 59:
        raise _not_a_time(typed)
    return time(hour, minute)


def _join_suffixes(words: list[str]) -> list[str]:
    """Glue a separate am/pm onto the number before it: ["9", "am"] → ["9 am"]; and noon,
    midday or midnight onto a 12 before it: ["12", "noon"] → ["12 noon"]."""
    joined: list[str] = []
    for word in words:
        lower = word.lower()
        am_pm = _SUFFIX.match(lower) and joined[-1:] and joined[-1][-1:].isdigit()
        named = _NAMED_TIME.match(lower) and joined[-1:] and _TWELVE.match(joined[-1])
        if am_pm or named:
            joined[-1] = f"{joined[-1]} {word}"
        else:
            joined.append(word)
    return joined


def parse_weekly(args: Sequence[str]) -> WeeklyChoice:
    """A day and a time in either order; Monday and 9:00 am when left out."""
    words = _words(args)
    if len(words) > MAX_WORDS:
        raise WordsError(f"I only need a day and a time, e.g. {WEEKLY_EXAMPLE}.")
    days: list[int] = []
    times: list[time] = []
    for word in _join_suffixes([w for w in words if w.lower() not in _FILLER]):
        if (day := _day(word)) is not None:
            days.append(day)
        elif (when := _read_time(word)) is not None:
            times.append(when)
        else:
            raise WordsError(
                f"I didn't recognise {_quote(word)} as a day. "
                f"Try a day like `tue` or `thursday`, e.g. {WEEKLY_EXAMPLE}."
            )
    if len(days) > 1:
        raise WordsError(f"Pick one day for your weekly tip, e.g. {WEEKLY_EXAMPLE}.")
    if len(times) > 1:
        raise WordsError(f"Pick one time for your weekly tip, e.g. {WEEKLY_EXAMPLE}.")
    return WeeklyChoice(
        weekday=days[0] if days else DEFAULT_WEEKDAY,
        local_time=times[0] if times else DEFAULT_TIME,
    )


def _read_date(typed: str) -> date:
    """A date as year-month-day (2027-01-20) or NZ day/month/year (20/01/2027)."""
    try:
        if match := _ISO_DATE.match(typed):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _NZ_DATE.match(typed):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        pass
    raise WordsError(
        f"{_quote(typed)} isn't a date I can read. "
        "Try year-month-day, e.g. `/leading-tip pause until 2027-01-20`."
    )


def _a_year_after(today: date) -> date:
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


def parse_pause(args: Sequence[str], today: date) -> PauseChoice:
    """Nothing → 1 week; a number of weeks, 1–12; or `until` a date after today, within a year."""
    words = [w for w in _words(args) if w.lower() != "for"]
    if not words:
        return PauseChoice(weeks=1)
    if words[0].lower() == "until":
        if len(words) == 1:
            raise WordsError(
                "Add a date after “until”, e.g. `/leading-tip pause until 2027-01-20`."
            )
        if len(words) > 2:
            raise WordsError(f"I only need one date. {PAUSE_HELP}")
        until = _read_date(words[1])
        latest = _a_year_after(today)
        example = f"`/leading-tip pause until {(today + timedelta(days=14)).isoformat()}`"
        if until <= today:
            raise WordsError(f"Pick a date after today, e.g. {example}.")
        if until > latest:
            raise WordsError(
                f"I can pause for up to a year, so pick a date by {latest.isoformat()}, "
                f"e.g. {example}."
            )
        return PauseChoice(until=until)
    text = "".join(words).lower()
    match = _WEEKS.match(text)
    if len(words) > 2 or (len(words) == 2 and words[1].lower() not in _UNITS) or match is None:
        raise WordsError(PAUSE_HELP)
    weeks = int(match[1])
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise WordsError(PAUSE_HELP)
    return PauseChoice(weeks=weeks)
