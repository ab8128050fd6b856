"""Plain values passed from services to the renderer: no database, no Slack, no Bolt."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.content import Item, Question
    from bot.services.insights import Progress
    from bot.services.reflections import Entry, ForgetReport
    from bot.services.subscriptions import ScheduleView


@dataclass(frozen=True)
class Home:
    """Everything the Home tab shows one person, as of `today` where they are."""

    view: ScheduleView
    progress: Progress
    latest: tuple[Entry, ...]
    zone: ZoneInfo
    today: date


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
