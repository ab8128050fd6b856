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

from bot.content import Library
from bot.services.rotation import Seen, choose, nudge_kind
from bot.services.timing import MAX_LATE, next_send_after

UNANSWERED_BEFORE_ASKING = 3

Person = tuple[str, str]  # team, user


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
    """The delivery to write for a due schedule, and the schedule as it is afterwards."""

    status: str  # pending | missed
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
    if now - due.due_at > MAX_LATE:
        return Plan(
            status="missed",
            kind="nudge",
            next_due_at=_next(due, now),
            every_weeks=due.every_weeks,
            unanswered=due.unanswered,
            backoff_pending=due.backoff_pending,
        )
    every_weeks, unanswered, backoff_pending = due.every_weeks, due.unanswered, False
    if due.backoff_pending:  # we asked how often, and heard nothing: fortnightly
        every_weeks, unanswered = 2, 0
    next_due_at = _next(due, due.due_at, every_weeks)
    after = Plan(
        status="pending",
        kind="nudge",
        next_due_at=next_due_at,
        every_weeks=every_weeks,
        unanswered=unanswered,
        backoff_pending=backoff_pending,
    )
    if unanswered >= UNANSWERED_BEFORE_ASKING:
        return replace(after, kind="backoff")  # pending until Slack accepts it
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
