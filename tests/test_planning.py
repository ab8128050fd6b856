"""What a claimed schedule gets, decided by `planning.plan` from plain values alone."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import load_library
from bot.services.dispatch.planning import UNANSWERED_BEFORE_ASKING, Due, History, plan
from bot.services.rotation import Seen

NZ = ZoneInfo("Pacific/Auckland")
DUE = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # Tuesday 9:00 am in Auckland
NOTHING = History(seen={}, nudged={}, reflected={})


BASE = Due(
    schedule_id=1,
    team_id="T0001",
    user_id="U0001",
    due_at=DUE,
    weekday=1,
    local_time=time(9, 0),
    zone=NZ,
    every_weeks=1,
    unanswered=0,
    backoff_pending=False,
    last_delivery_id=None,
)


def due(**changes: Any) -> Due:
    return replace(BASE, **changes)


def test_a_due_schedule_gets_a_nudge_with_an_item_and_moves_on_a_week() -> None:
    library = load_library()
    planned = plan(due(), DUE, NOTHING, library, random.Random(1))
    assert (planned.status, planned.kind) == ("pending", "nudge")
    assert planned.item_id is not None and library.item(planned.item_id).kind == planned.item_kind
    assert planned.next_due_at == DUE + timedelta(days=7)


def test_the_same_draw_plans_the_same_nudge() -> None:
    library = load_library()
    first = plan(due(), DUE, NOTHING, library, random.Random(7))
    assert plan(due(), DUE, NOTHING, library, random.Random(7)) == first


def test_more_than_twelve_hours_late_is_missed_and_moves_to_the_next_slot_after_now() -> None:
    now = DUE + timedelta(hours=13)
    planned = plan(due(every_weeks=2), now, NOTHING, load_library(), random.Random(1))
    assert (planned.status, planned.item_id, planned.every_weeks) == ("missed", None, 2)
    assert planned.next_due_at == DUE + timedelta(days=7)


def test_quiet_weeks_bring_the_how_often_question_and_no_answer_means_fortnightly() -> None:
    library = load_library()
    asked = plan(due(unanswered=UNANSWERED_BEFORE_ASKING), DUE, NOTHING, library, random.Random())
    assert (asked.kind, asked.item_id) == ("backoff", None)
    unheard = plan(due(unanswered=0, backoff_pending=True), DUE, NOTHING, library, random.Random())
    assert (unheard.kind, unheard.every_weeks, unheard.backoff_pending) == ("nudge", 2, False)
    assert unheard.next_due_at == DUE + timedelta(days=14)


def test_a_reflected_last_nudge_is_named_and_kinds_take_turns() -> None:
    library = load_library()
    tip = next(item for item in library.items() if item.kind == "tip")
    history = History(
        seen={("T0001", "U0001"): [Seen("tip", tip.id, 1)]},
        nudged={("T0001", "U0001"): {"tip": DUE - timedelta(days=7)}},
        reflected={41: tip.id},
    )
    planned = plan(due(last_delivery_id=41), DUE, history, library, random.Random(3))
    assert planned.follow_up_item_id == tip.id
    assert planned.item_kind != "tip"
