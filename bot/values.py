"""Plain values the services hand to the renderer, and the pure wording of dates and times.

No database, Slack or service imports here: the renderer (bot.blocks) reads only these.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.content import Item, Question

# --- reflections -----------------------------------------------------------------------------

MAX_MODAL_CHARS = 3000
MAX_REFLECTION_CHARS = 10_000  # a DM can be 40,000; longer than this, ask for it in parts


@dataclass(frozen=True)
class EarlierWords:
    """One of the person's own earlier reflections, shown to them again in a nudge."""

    text: str
    weeks_ago: int
    edited: bool


@dataclass(frozen=True)
class Entry:
    id: int
    text: str
    created_at: datetime
    edited: bool
    item_id: str | None
    question_id: str | None
    looks_back_to: datetime | None = None  # when the earlier reflection it answers was written


@dataclass(frozen=True)
class ForgetReport:
    reflections: int
    nudges: int
    schedules: int
    items_seen: int


# --- the weekly nudge ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleView:
    """What a person's weekly nudge looks like now, for replies and the Home tab."""

    status: str  # active | stopped | ended | none
    weekday: int = 0
    local_time: time = time(9, 0)
    zone: str = "Pacific/Auckland"
    every_weeks: int = 1
    next_due_at: datetime | None = None
    paused_until: date | None = None
    # Stopped because the app was uninstalled (or its token revoked), then installed again:
    # it stays stopped until the person subscribes again, and Home tells them so.
    stopped_by_removal: bool = False
    # The public-holiday region the nudge keeps to (bot.calendar): theirs, else the default.
    region: str = "NZ"
    # The next nudge waits (`next_due_at` is where it waits until): the slot it was due at, and
    # why, "holiday" (named in `holiday`), "leave" or "dnd". A holiday move is shown before it
    # happens; leave and Do Not Disturb only once the dispatcher has held the nudge.
    moved_from: datetime | None = None
    moved_why: str | None = None
    holiday: str | None = None

    @property
    def subscribed(self) -> bool:
        return self.status == "active"


# --- figures ---------------------------------------------------------------------------------

MIN_GROUP = 5  # no figure about reflecting over fewer people than this: too easy to tell who
STATS_WEEKS = 8


@dataclass(frozen=True)
class Progress:
    seen: dict[str, int]  # kind → distinct items seen
    totals: dict[str, int]  # kind → items there are
    reflections: int
    weeks_in_a_row: int


@dataclass(frozen=True)
class WeekFigures:
    week_start: date
    nudges_sent: int
    reflections: int | None  # None when fewer than MIN_GROUP people got nudges that week


@dataclass(frozen=True)
class CapabilityFigures:
    """One capability's share of the figures, when the content has more than one."""

    capability_id: str
    nudges_sent: int
    reflections: int | None  # None when fewer than MIN_GROUP people were nudged with it


@dataclass(frozen=True)
class WorkspaceFigures:
    subscribers: int
    paused: int
    weeks: list[WeekFigures]
    people_nudged: int
    nudges_sent: int
    nudges_reflected: int
    top_items: list[tuple[str, int]] | None  # item id, reflections; None when too few people
    by_capability: tuple[CapabilityFigures, ...] = ()  # empty with one capability
    season_summaries: int = 0  # summaries ever sent (the workspace's only): a count, nothing more

    @property
    def reflection_rate(self) -> float | None:
        """Share of nudges that got a reflection; None when too few people to show it."""
        if self.people_nudged < MIN_GROUP or not self.nudges_sent:
            return None
        return self.nudges_reflected / self.nudges_sent


@dataclass(frozen=True)
class CohortFigures:
    """A cohort's counts for its leads. `figures` is None while the cohort has fewer than
    MIN_GROUP members: with so few, even subscribed and paused would point at people."""

    channel_id: str
    members: int
    figures: WorkspaceFigures | None


# --- cohorts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortIntro:
    """The one DM someone gets on joining a cohort: at the cohort's time, or (`own_schedule`)
    keeping the day and time they had already chosen."""

    channel_id: str
    view: ScheduleView
    own_schedule: bool


@dataclass(frozen=True)
class CohortSettled:
    """A cohort started in a channel, or (`already` one) its day and time changed
    (`changed`), or neither: its people were checked again."""

    channel_id: str
    weekday: int
    local_time: time
    changed: bool
    already: bool = False


# --- dates and times in words ----------------------------------------------------------------

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def still_paused(until: date | None, today: date) -> bool:
    """The one meaning of "paused until": a local date, inclusive. No nudge on `until` itself;
    the first one comes on a later day."""
    return until is not None and until >= today


def weekday_name(weekday: int) -> str:
    """0 → "Monday" … 6 → "Sunday"."""
    return WEEKDAY_NAMES[weekday]


def format_time(t: time) -> str:
    """NZ style 12-hour time: "9:00 am", "2:30 pm", "12:00 pm" for noon, "12:00 am" for midnight."""
    hour = t.hour % 12 or 12
    return f"{hour}:{t.minute:02d} {'am' if t.hour < 12 else 'pm'}"


def describe_local(instant: datetime, zone: ZoneInfo) -> str:
    """An instant as the person would read it, e.g. "Tuesday 3 December, 8:30 am"."""
    local = instant.astimezone(zone)
    day = f"{WEEKDAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]}"
    return f"{day}, {format_time(local.time())}"


# --- surfaces ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PracticeSettled:
    """`cohort practice on|off`: the weekly practice post now on (or off), and when it comes."""

    on: bool
    weekday: int
    local_time: time
    zone: str


@dataclass(frozen=True)
class PreviewSample:
    """What a preview fills the messages with: the cohort the asker is in (or leads), else none
    (`channel_id` None), its day and time, and when the asker's next nudge would come."""

    channel_id: str | None
    view: ScheduleView


@dataclass(frozen=True)
class HomeCohorts:
    """Cohorts on someone's Home: the one their nudge belongs to, and those they lead, with the
    figures of the first few of those (the rest are only named)."""

    member_of: str | None = None  # a channel id
    leads: tuple[str, ...] = ()  # channel ids
    figures: tuple[CohortFigures, ...] = ()  # for the first of `leads`, in the same order
    may_start: bool = False  # a lead or in ADMIN_USER_IDS: Home offers "Start a cohort"


@dataclass(frozen=True)
class Home:
    """Everything the Home tab shows one person, as of `today` where they are."""

    view: ScheduleView
    progress: Progress
    latest: tuple[Entry, ...]
    zone: ZoneInfo
    today: date
    cohorts: HomeCohorts = HomeCohorts()
    focus: str | None = None  # the capability the person practises; None: the first
    look_back: bool = True  # "Show me my earlier reflections"


@dataclass(frozen=True)
class HomeOpened:
    """Home was shown; `welcome` when this was the person's first open, so say hello once."""

    subscribed: bool
    welcome: bool


@dataclass(frozen=True)
class ReflectPrompt:
    """What the Reflect modal shows from the person's own nudge; None for content retired since
    it was sent, or for a nudge that isn't theirs."""

    item: Item | None = None
    question: Question | None = None
    looking_back: bool = False  # the nudge showed an earlier reflection, and asked about it


@dataclass(frozen=True)
class Forgotten:
    """What forgetting removed, and whether to show the emptied Home (they had opened it)."""

    report: ForgetReport | None
    show_home: bool


class NudgeChoice(enum.Enum):
    """A button on a weekly nudge or on the "how often?" question."""

    SNOOZE = "snooze"
    SKIP = "skip"
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    PAUSE_A_MONTH = "pause_a_month"


class HomeChange(enum.Enum):
    """The Pause, Resume and Stop buttons on the Home tab."""

    PAUSE_A_WEEK = "pause_a_week"
    RESUME = "resume"
    STOP = "stop"


class ExportOutcome(enum.Enum):
    EMPTY = "empty"  # nothing to export
    NO_CLIENT = "no_client"  # no token for the workspace: nowhere to send it
    SENT = "sent"


@dataclass(frozen=True)
class SeasonWords:
    """What a season summary shows its person: weeks with a reflection out of the season's 12,
    the items they reflected on most (ids), and a few of their own lines from different weeks."""

    weeks: int
    item_ids: tuple[str, ...]
    lines: tuple[str, ...]
