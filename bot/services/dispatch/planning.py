"""What a claimed schedule gets this week, decided without the database or Slack.

`plan` is a pure function of the claimed row, what the person has seen and been sent, the
content and the random draw; claiming reads those in and writes the result back.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.calendar import SHORT_LEAVE, after_leave, holiday_move
from bot.content import Library
from bot.services.rotation import Seen, choose, nudge_kind
from bot.services.timing import MAX_LATE, next_send_after

UNANSWERED_BEFORE_ASKING = 3

Person = tuple[str, str]  # team, user


@dataclass(frozen=True)
class Away:
    """What Slack said of the person just before this nudge (nothing, when it was not asked)."""

    on_leave: bool = False  # their status shows leave
    leave_until: datetime | None = None  # when that status clears; None: it does not say
    dnd_until: datetime | None = None  # when their Do Not Disturb ends, if it is on


@dataclass(frozen=True)
class Moved:
    """A nudge that waits: the slot it was due at, why it moved, and where the missed rule
    counts from (the moved time, except while waiting for Do Not Disturb to end)."""

    moved_from: datetime
    why: str
    late_from: datetime


@dataclass(frozen=True)
class Due:
    """A due schedule, claimed: what planning reads of it."""

    schedule_id: int
    team_id: str
    user_id: str
    due_at: datetime
    weekday: int
    local_time: time
    zone: ZoneInfo
    every_weeks: int
    unanswered: int
    backoff_pending: bool
    last_delivery_id: int | None
    focus: str | None = None  # the capability the person chose
    cohort_focus: str | None = None  # the capability their cohort chose
    region: str = "NZ"  # their public-holiday region (bot.calendar)
    away: Away = field(default_factory=Away)
    moved: Moved | None = None  # this due instant is a nudge that waits
    welcome_back: bool = False  # a week was skipped for leave: the next nudge says so


@dataclass(frozen=True)
class History:
    """What the people in one claimed batch have had before."""

    seen: Mapping[Person, Sequence[Seen]]  # items seen, by person
    nudged: Mapping[Person, Mapping[str, datetime]]  # when each kind was last their nudge
    reflected: Mapping[int, str]  # last delivery → its item, when it got a reflection
    # An earlier reflection each person could be shown again, by its id, and the schedules
    # whose recent nudges already showed one (bot.services.dispatch.looking_back).
    earlier: Mapping[Person, int] = field(default_factory=dict)
    shown_lately: Collection[int] = frozenset()


@dataclass(frozen=True)
class Plan:
    """The delivery to write for a due schedule, and the schedule as it is afterwards.

    `held`: no delivery; the nudge waits until `next_due_at` (moved_* say why). `away`: no
    delivery; the person is on leave, the week is skipped and the next nudge says welcome back.
    """

    status: str  # pending | missed | held | away
    kind: str  # nudge | backoff
    next_due_at: datetime
    every_weeks: int
    unanswered: int
    backoff_pending: bool
    item_kind: str | None = None
    item_id: str | None = None
    item_cycle: int | None = None
    question_id: str | None = None
    follow_up_item_id: str | None = None
    resurfaced_reflection_id: int | None = None
    error: str | None = None  # why a nudge was missed, when it was not lateness
    hold: str | None = None  # held or away: holiday | leave | dnd
    moved: Moved | None = None  # held: the slot, why, and where the missed rule counts from
    welcome_back: bool = False  # the schedule's flag afterwards
    says_welcome_back: bool = False  # this delivery opens with "welcome back"


def _next(due: Due, after: datetime, every_weeks: int = 1) -> datetime:
    return next_send_after(after, due.weekday, due.local_time, due.zone, every_weeks=every_weeks)


def plan(due: Due, now: datetime, history: History, library: Library, rng: random.Random) -> Plan:
    """Decide what this due schedule gets, and when it is next due.

    More than MAX_LATE late: missed, and the next slot after now. A "how often?" question left
    unanswered turns into fortnightly. After UNANSWERED_BEFORE_ASKING quiet nudges, the question
    goes instead of a nudge. Otherwise a nudge: the kind whose turn it is, an item of the
    person's focus (theirs, else their cohort's, else the first capability), a question
    to go with it, the item of last week's nudge if the person reflected on it, and one of
    their earlier reflections to look back on, unless one of their last two nudges had one."""
    late_from = due.moved.late_from if due.moved else due.due_at
    if now - late_from > MAX_LATE:
        return _missed(due, now)
    held = _held(due, now)
    if held is not None:
        return held
    every_weeks, unanswered, backoff_pending = due.every_weeks, due.unanswered, False
    if due.backoff_pending:  # we asked how often, and heard nothing: fortnightly
        every_weeks, unanswered = 2, 0
    # A nudge that waited counts its next week from the slot it was due at.
    next_due_at = _next(due, due.moved.moved_from if due.moved else due.due_at, every_weeks)
    after = Plan(
        status="pending",
        kind="nudge",
        next_due_at=next_due_at if next_due_at > now else _next(due, now),
        every_weeks=every_weeks,
        unanswered=unanswered,
        backoff_pending=backoff_pending,
        says_welcome_back=due.welcome_back,
    )
    if unanswered >= UNANSWERED_BEFORE_ASKING:
        # Pending until Slack accepts it; a welcome back waits for the next nudge.
        return replace(
            after, kind="backoff", says_welcome_back=False, welcome_back=due.welcome_back
        )
    person = (due.team_id, due.user_id)
    seen = history.seen.get(person, [])
    kind = nudge_kind(history.nudged.get(person, {}), seen)
    capability = library.focus_of(due.focus, due.cohort_focus).id
    pick = choose(library, seen, kind, rng, capability)
    questions = library.questions_for(pick.item.id)
    return replace(
        after,
        item_kind=pick.kind,
        item_id=pick.item.id,
        item_cycle=pick.cycle,  # seen, and counted, once Slack accepts it
        question_id=rng.choice(questions).id if questions else None,
        follow_up_item_id=history.reflected.get(due.last_delivery_id or -1),
        resurfaced_reflection_id=(
            None if due.schedule_id in history.shown_lately else history.earlier.get(person)
        ),
    )


def _missed(due: Due, now: datetime, error: str | None = None) -> Plan:
    """Too late to send (or Do Not Disturb outlasts the wait): missed; the next slot after now."""
    return Plan(
        status="missed",
        kind="nudge",
        next_due_at=_next(due, now),
        every_weeks=due.every_weeks,
        unanswered=due.unanswered,
        backoff_pending=due.backoff_pending,
        error=error,
        welcome_back=due.welcome_back,
    )


def _held(due: Due, now: datetime) -> Plan | None:
    """A nudge due on a public holiday, while its person is on leave or in Do Not Disturb
    waits (one delivery, written when it goes) or, on longer leave, the week is skipped. None:
    it goes now. The back-off counters are left as they are: a hold is not an ignored nudge."""
    slot = due.moved.moved_from if due.moved else due.due_at

    def regular() -> datetime:  # the week after: a hold never reaches it
        return _next(due, slot, due.every_weeks)

    def wait(until: datetime, why: str, late_from: datetime | None = None) -> Plan:
        if until >= regular():  # a wait that would run into next week's nudge: skip this one
            return _skip(due, regular(), now, why, welcome_back=due.welcome_back)
        return Plan(
            status="held",
            hold=why.partition(":")[0],
            kind="nudge",
            next_due_at=until,
            every_weeks=due.every_weeks,
            unanswered=due.unanswered,
            backoff_pending=due.backoff_pending,
            moved=Moved(slot, why, late_from or until),
            welcome_back=due.welcome_back,
        )

    holiday = holiday_move(due.due_at, due.local_time, due.zone, due.region)
    if holiday is not None:
        return wait(holiday.moved_to, f"holiday:{holiday.name}")
    away = due.away
    if away.on_leave and (away.leave_until is None or away.leave_until > now):
        if away.leave_until is not None and away.leave_until - slot <= SHORT_LEAVE:
            back = after_leave(away.leave_until, due.local_time, due.zone, due.region)
            return wait(back, "leave")
        return _skip(due, regular(), now, "leave", welcome_back=True)
    if away.dnd_until is not None and away.dnd_until > now:
        waiting_since = due.moved.late_from if due.moved else due.due_at
        if away.dnd_until - waiting_since > MAX_LATE:
            return _missed(due, now, "dnd")
        return wait(away.dnd_until, "dnd", waiting_since)
    return None


def _skip(due: Due, regular: datetime, now: datetime, why: str, *, welcome_back: bool) -> Plan:
    return Plan(
        status="away",
        hold=why.partition(":")[0],
        kind="nudge",
        next_due_at=regular if regular > now else _next(due, now),
        every_weeks=due.every_weeks,
        unanswered=due.unanswered,
        backoff_pending=due.backoff_pending,
        welcome_back=welcome_back,
    )
