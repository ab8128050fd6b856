"""Calendar-aware nudges: never on a public holiday, never on leave, never in Do Not Disturb.

Real holiday data (the holidays package), real zones, fixed instants; Slack's status and Do
Not Disturb come from the simulator, read through the real users.info and dnd.teamInfo.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update

from bot.clock import ManualClock
from bot.config import Settings
from bot.models import Delivery, Member, Schedule
from tests.conftest import RunningApp
from tests.helpers import (
    deliveries,
    dispatch_at,
    dispatcher_with,
    nudges,
    schedule_of,
    subscribe,
    text_of,
)
from tests.seeding import seed_due_members

AUCKLAND = ZoneInfo("Pacific/Auckland")
CHATHAM = ZoneInfo("Pacific/Chatham")


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """New Zealand's national holidays, as the app has them by default."""
    return settings.model_copy(update={"default_holiday_region": "NZ"})


async def set_region(app: RunningApp, region: str | None, user_id: str = "U0001") -> None:
    async with app.ctx.sessions() as session, session.begin():
        await session.execute(
            update(Member).where(Member.user_id == user_id).values(holiday_region=region)
        )


async def subscribe_at(
    app: RunningApp, clock: ManualClock, instant: datetime, words: str, user_id: str = "U0001"
) -> None:
    clock.set(instant)
    await subscribe(app, words, user_id=user_id)


async def counters(app: RunningApp, user_id: str = "U0001") -> tuple[int, int, bool]:
    schedule = await schedule_of(app, user_id)
    return schedule.unanswered, schedule.every_weeks, schedule.backoff_pending


# --- public holidays --------------------------------------------------------------------------

WAITANGI_OBSERVED = local(AUCKLAND, 2027, 2, 8, 8, 30)  # Monday 8 February 2027, 8:30 am
TUESDAY_AFTER = local(AUCKLAND, 2027, 2, 9, 8, 30)


async def test_a_monday_nudge_on_waitangi_days_mondayised_observance_moves_to_tuesday(
    app: RunningApp, clock: ManualClock
) -> None:
    # Waitangi Day 2027 is a Saturday; it is kept on Monday 8 February.
    await subscribe_at(app, clock, local(AUCKLAND, 2027, 2, 3, 12, 0), "weekly monday 08:30")
    assert (await schedule_of(app)).next_due_at == WAITANGI_OBSERVED
    before = await counters(app)
    assert (await dispatch_at(app, clock, WAITANGI_OBSERVED)).sent == 0
    schedule = await schedule_of(app)
    assert schedule.next_due_at == TUESDAY_AFTER == schedule.moved_to
    assert schedule.moved_from == WAITANGI_OBSERVED
    assert schedule.moved_why == "holiday:Waitangi Day (observed)"
    assert await deliveries(app) == [] and nudges(app.sim) == []
    assert await counters(app) == before  # a hold is not an ignored nudge
    # Again in the same minute, and the evening before the moved time: nothing.
    assert (await dispatch_at(app, clock, WAITANGI_OBSERVED)).sent == 0
    assert (await dispatch_at(app, clock, TUESDAY_AFTER - timedelta(minutes=1))).sent == 0
    assert (await dispatch_at(app, clock, TUESDAY_AFTER)).sent == 1
    [delivery] = await deliveries(app)
    assert delivery.due_at == TUESDAY_AFTER and delivery.status == "sent"
    # The follow-up week is the usual Monday, not a Tuesday.
    schedule = await schedule_of(app)
    assert schedule.next_due_at == local(AUCKLAND, 2027, 2, 15, 8, 30)
    assert schedule.moved_to is None and schedule.moved_why is None
    assert (await dispatch_at(app, clock, local(AUCKLAND, 2027, 2, 15, 8, 30))).sent == 1
    assert len(nudges(app.sim)) == 2
    # Nothing in the nudge mentions the move.
    assert "Waitangi" not in text_of(nudges(app.sim)[0])


async def test_a_saturday_nudge_on_waitangi_day_itself_skips_the_observed_monday(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, local(AUCKLAND, 2027, 2, 3, 12, 0), "weekly saturday 10:00")
    assert (await dispatch_at(app, clock, local(AUCKLAND, 2027, 2, 6, 10, 0))).sent == 0
    schedule = await schedule_of(app)
    assert schedule.moved_why == "holiday:Waitangi Day"
    assert schedule.next_due_at == local(AUCKLAND, 2027, 2, 9, 10, 0)  # Tuesday


async def test_canterbury_anniversary_day_moves_only_canterbury_members_nudges(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0002", tz="Pacific/Auckland")
    start = local(AUCKLAND, 2026, 11, 10, 12, 0)
    await subscribe_at(app, clock, start, "weekly friday 09:00")
    await subscribe_at(app, clock, start, "weekly friday 09:00", user_id="U0002")
    await set_region(app, "NZ-CAN")
    await set_region(app, "NZ-AUK", user_id="U0002")
    friday = local(AUCKLAND, 2026, 11, 13, 9, 0)  # Canterbury Anniversary Day 2026
    assert (await dispatch_at(app, clock, friday)).sent == 1
    assert [call["channel"] for call in nudges(app.sim)] == ["U0002"]
    canterbury = await schedule_of(app)
    assert canterbury.moved_why == "holiday:Canterbury Anniversary Day"
    assert canterbury.next_due_at == local(AUCKLAND, 2026, 11, 16, 9, 0)  # Monday
    assert (await schedule_of(app, "U0002")).next_due_at == local(AUCKLAND, 2026, 11, 20, 9, 0)
    assert (await dispatch_at(app, clock, local(AUCKLAND, 2026, 11, 16, 9, 0))).sent == 1
    # Friday again for both.
    assert (await schedule_of(app)).next_due_at == local(AUCKLAND, 2026, 11, 20, 9, 0)


async def test_the_holiday_is_on_the_members_own_date_in_pacific_chatham(
    app: RunningApp, clock: ManualClock
) -> None:
    """00:30 on Friday 6 February 2026 in the Chathams is 11:45 pm Thursday in Auckland: the
    Chatham member's nudge is on Waitangi Day, the Auckland member's at the same instant is not."""
    app.sim.add_user("T0001", "U0001", tz="Pacific/Chatham")
    app.sim.add_user("T0001", "U0002", tz="Pacific/Auckland")
    start = local(AUCKLAND, 2026, 2, 2, 12, 0)
    await subscribe_at(app, clock, start, "weekly friday 00:30")
    await subscribe_at(app, clock, start, "weekly thursday 23:45", user_id="U0002")
    instant = local(CHATHAM, 2026, 2, 6, 0, 30)
    assert instant == local(AUCKLAND, 2026, 2, 5, 23, 45)
    assert (await schedule_of(app)).next_due_at == instant
    assert (await dispatch_at(app, clock, instant)).sent == 1
    assert [call["channel"] for call in nudges(app.sim)] == ["U0002"]
    chatham = await schedule_of(app)
    assert chatham.moved_why == "holiday:Waitangi Day"
    assert chatham.next_due_at == local(CHATHAM, 2026, 2, 9, 0, 30)  # Monday, Chatham time


async def test_chatham_islands_anniversary_day_with_the_chatham_region(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0001", tz="Pacific/Chatham")
    await subscribe_at(app, clock, local(CHATHAM, 2026, 11, 25, 12, 0), "weekly monday 09:00")
    await set_region(app, "NZ-CIT")
    assert (await dispatch_at(app, clock, local(CHATHAM, 2026, 11, 30, 9, 0))).sent == 0
    schedule = await schedule_of(app)
    assert schedule.moved_why == "holiday:Chatham Islands Anniversary Day"
    assert schedule.next_due_at == local(CHATHAM, 2026, 12, 1, 9, 0)


async def test_the_missed_rule_counts_from_the_moved_time(
    app: RunningApp, clock: ManualClock
) -> None:
    """Down from the holiday until 11 hours after the moved time: 35 hours after the slot, yet
    not late, since the nudge was due at the moved time. 13 hours after it: missed."""
    await subscribe_at(app, clock, local(AUCKLAND, 2027, 2, 3, 12, 0), "weekly monday 08:30")
    await dispatch_at(app, clock, WAITANGI_OBSERVED)
    assert (await dispatch_at(app, clock, TUESDAY_AFTER + timedelta(hours=11))).sent == 1

    await subscribe_at(app, clock, local(AUCKLAND, 2027, 3, 24, 12, 0), "weekly friday 08:30")
    good_friday = local(AUCKLAND, 2027, 3, 26, 8, 30)  # then Easter Monday: moved to Tuesday
    await dispatch_at(app, clock, good_friday)
    moved = local(AUCKLAND, 2027, 3, 30, 8, 30)
    assert (await schedule_of(app)).next_due_at == moved
    summary = await dispatch_at(app, clock, moved + timedelta(hours=13))
    assert summary.sent == 0 and summary.skipped == 1
    assert (await deliveries(app))[-1].status == "missed"


# --- leave, from the Slack status ----------------------------------------------------------

MONDAY = local(AUCKLAND, 2026, 12, 7, 9, 0)


async def test_leave_that_clears_within_three_days_holds_the_nudge_until_it_clears(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    before = await counters(app)
    clears = MONDAY + timedelta(days=2) - timedelta(hours=1)  # Wednesday 8:00 am
    app.sim.set_status(
        "T0001", "U0001", emoji=":palm_tree:", text="", expiration=clears.timestamp()
    )
    assert (await dispatch_at(app, clock, MONDAY)).sent == 0
    schedule = await schedule_of(app)
    wednesday = MONDAY + timedelta(days=2)
    assert schedule.next_due_at == wednesday and schedule.moved_why == "leave"
    assert await deliveries(app) == [] and await counters(app) == before
    app.sim.set_status("T0001", "U0001")  # Slack clears it when it expires
    assert (await dispatch_at(app, clock, wednesday)).sent == 1
    [delivery] = await deliveries(app)
    assert delivery.due_at == wednesday and not delivery.welcome_back
    assert (await schedule_of(app)).next_due_at == MONDAY + timedelta(weeks=1)


async def test_leave_for_ten_days_skips_the_week_and_the_next_nudge_says_welcome_back(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    async with app.ctx.sessions() as session, session.begin():
        await session.execute(update(Schedule).values(unanswered=2))
    before = await counters(app)
    app.sim.set_status(
        "T0001",
        "U0001",
        emoji=":palm_tree:",
        text="Annual leave",
        expiration=(MONDAY + timedelta(days=10)).timestamp(),
    )
    assert (await dispatch_at(app, clock, MONDAY)).sent == 0
    schedule = await schedule_of(app)
    assert schedule.next_due_at == MONDAY + timedelta(weeks=1) and schedule.welcome_back
    assert schedule.moved_why is None
    assert await deliveries(app) == [] and await counters(app) == before
    app.sim.set_status("T0001", "U0001")
    assert (await dispatch_at(app, clock, MONDAY + timedelta(weeks=1))).sent == 1
    [message] = nudges(app.sim)
    assert text_of(message).startswith("Welcome back. Your nudges took a break")
    [delivery] = await deliveries(app)
    assert delivery.welcome_back
    assert not (await schedule_of(app)).welcome_back
    # Only what Slack accepted counts as unanswered: one more, never the held week.
    assert (await counters(app))[0] == before[0] + 1


async def test_a_status_with_no_expiry_skips_each_week_until_it_is_cleared(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    app.sim.set_status("T0001", "U0001", emoji=":face_with_thermometer:", text="Sick")
    for week in range(2):
        assert (await dispatch_at(app, clock, MONDAY + timedelta(weeks=week))).sent == 0
    assert (await counters(app)) == (0, 1, False)
    app.sim.set_status("T0001", "U0001", emoji=":coffee:", text="In clinic")
    assert (await dispatch_at(app, clock, MONDAY + timedelta(weeks=2))).sent == 1
    assert text_of(nudges(app.sim)[0]).startswith("Welcome back.")


@pytest.mark.parametrize(
    ("emoji", "words", "status_text", "away"),
    [
        (":airplane:", None, "", True),
        ("", None, "On leave until Monday", True),
        ("", None, "HOLIDAY", True),
        ("", None, "Leaves are turning", False),  # whole words only
        (":palm_tree:", None, "", True),
        ("", None, "In clinic", False),
        (":palm_tree:", ":surfer:", "", False),  # configured: only these emoji
        ("", "rostered off", "Rostered off today", True),
    ],
)
async def test_what_counts_as_leave_is_configurable(
    app: RunningApp,
    clock: ManualClock,
    emoji: str,
    words: str | None,
    status_text: str,
    away: bool,
) -> None:
    if words is not None:  # a deployment's own lists
        app.ctx.settings.leave_status_emoji = ":surfer:"
        app.ctx.settings.leave_status_words = words
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    app.sim.set_status("T0001", "U0001", emoji=emoji, text=status_text)
    assert (await dispatch_at(app, clock, MONDAY)).sent == (0 if away else 1)


async def test_a_status_text_never_reaches_the_logs_or_the_database(
    app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture, database_url: str
) -> None:
    canary = "Annual leave canary-7d1f3a"
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    app.sim.set_status("T0001", "U0001", emoji="", text=canary)
    await dispatch_at(app, clock, MONDAY)
    assert (await schedule_of(app)).welcome_back
    assert "canary-7d1f3a" not in logs.text
    async with app.ctx.sessions() as session:
        for table in ("members", "schedules", "deliveries"):
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            assert "canary-7d1f3a" not in repr(rows)


# --- Do Not Disturb ------------------------------------------------------------------------


async def test_do_not_disturb_ending_in_two_hours_holds_the_nudge_until_then(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    before = await counters(app)
    ends = MONDAY + timedelta(hours=2)
    app.sim.set_dnd("T0001", "U0001", (MONDAY - timedelta(hours=10)).timestamp(), ends.timestamp())
    assert (await dispatch_at(app, clock, MONDAY)).sent == 0
    schedule = await schedule_of(app)
    assert schedule.next_due_at == ends and schedule.moved_why == "dnd"
    assert await counters(app) == before
    assert (await dispatch_at(app, clock, ends - timedelta(minutes=1))).sent == 0
    assert (await dispatch_at(app, clock, ends)).sent == 1
    [delivery] = await deliveries(app)
    assert delivery.due_at == ends
    assert (await schedule_of(app)).next_due_at == MONDAY + timedelta(weeks=1)


async def test_do_not_disturb_ending_in_fourteen_hours_is_a_missed_nudge(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    before = await counters(app)
    app.sim.set_dnd(
        "T0001", "U0001", MONDAY.timestamp() - 60, (MONDAY + timedelta(hours=14)).timestamp()
    )
    summary = await dispatch_at(app, clock, MONDAY)
    assert summary.sent == 0 and summary.skipped == 1
    [delivery] = await deliveries(app)
    assert (delivery.status, delivery.error) == ("missed", "dnd")
    assert nudges(app.sim) == [] and await counters(app) == before
    assert (await schedule_of(app)).next_due_at == MONDAY + timedelta(weeks=1)
    app.sim.clear_dnd("T0001", "U0001")
    assert (await dispatch_at(app, clock, MONDAY + timedelta(weeks=1))).sent == 1


async def test_do_not_disturb_that_comes_back_waits_at_most_twelve_hours_in_all(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    app.sim.set_dnd(
        "T0001", "U0001", MONDAY.timestamp() - 60, (MONDAY + timedelta(hours=8)).timestamp()
    )
    await dispatch_at(app, clock, MONDAY)
    later = MONDAY + timedelta(hours=8)
    assert (await schedule_of(app)).next_due_at == later
    # Another window starts as the first ends, for 6 hours: 14 hours after the slot in all.
    app.sim.set_dnd("T0001", "U0001", later.timestamp(), (later + timedelta(hours=6)).timestamp())
    summary = await dispatch_at(app, clock, later)
    assert summary.sent == 0 and summary.skipped == 1
    assert [(d.status, d.error) for d in await deliveries(app)] == [("missed", "dnd")]


async def test_without_the_dnd_scope_or_when_slack_cannot_say_the_nudge_goes(
    app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    await subscribe_at(app, clock, MONDAY - timedelta(days=3), "weekly")
    app.sim.set_dnd("T0001", "U0001", MONDAY.timestamp() - 60, MONDAY.timestamp() + 3600)
    workspace = app.sim._workspace("T0001")
    workspace.scopes = tuple(scope for scope in workspace.scopes if scope != "dnd:read")
    assert (await dispatch_at(app, clock, MONDAY)).sent == 1  # installed before the scope
    assert "dnd.teamInfo failed for T0001: missing_scope" in logs.text
    app.sim.fail("dnd.teamInfo", drop=True)
    assert (await dispatch_at(app, clock, MONDAY + timedelta(weeks=1))).sent == 1
    assert "dnd.teamInfo failed for T0001: " in logs.text


async def test_do_not_disturb_is_asked_fifty_people_a_call(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    users = seed_due_members(database_url, count=120, due=MONDAY)
    for user in users:
        app.sim.add_user("T0001", user, tz="Pacific/Auckland")
    for user in users[:7]:
        app.sim.set_dnd("T0001", user, MONDAY.timestamp() - 60, MONDAY.timestamp() + 3600)
    summary = await dispatch_at(app, clock, MONDAY)
    assert summary.sent == 113
    calls = app.sim.calls_to("dnd.teamInfo")
    asked = [call.body["users"].split(",") for call in calls]
    # Each call asks about 50 people (those read now, then the others due), each once.
    assert [len(users) for users in asked] == [50, 50, 20]
    assert sorted(user for users in asked for user in users) == sorted(users)
    assert len(app.sim.calls_to("users.info")) == 120


# --- exactly once, across replicas and restarts ------------------------------------------


async def test_a_held_nudge_is_one_delivery_across_a_restart_and_two_dispatchers(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe_at(app, clock, local(AUCKLAND, 2027, 2, 3, 12, 0), "weekly monday 08:30")
    app.sim.add_user("T0001", "U0002", tz="Pacific/Auckland")
    await subscribe_at(
        app, clock, local(AUCKLAND, 2027, 2, 3, 12, 0), "weekly monday 08:30", user_id="U0002"
    )
    ends = WAITANGI_OBSERVED + timedelta(days=1, hours=1)
    # One held by the holiday (to Tuesday 8:30), the other by Do Not Disturb after that.
    first = dispatcher_with(app.ctx, clock)
    clock.set(WAITANGI_OBSERVED)
    await asyncio.gather(first.run_pass(), dispatcher_with(app.ctx, clock).run_pass())
    assert await deliveries(app) == []
    app.sim.set_dnd("T0001", "U0002", TUESDAY_AFTER.timestamp() - 60, ends.timestamp())
    # "Restarted": new dispatchers, nothing carried over in memory.
    for instant in (TUESDAY_AFTER, ends):
        clock.set(instant)
        summaries = await asyncio.gather(
            dispatcher_with(app.ctx, clock).run_pass(),
            dispatcher_with(app.ctx, clock).run_pass(),
        )
        assert sum(summary.sent for summary in summaries) == 1
    assert sorted(call["channel"] for call in nudges(app.sim)) == ["U0001", "U0002"]
    rows = await deliveries(app)
    assert sorted((row.user_id, row.due_at) for row in rows) == [
        ("U0001", TUESDAY_AFTER),
        ("U0002", ends),
    ]
    async with app.ctx.sessions() as session:
        count = await session.scalar(select(Delivery.id).where(Delivery.status != "sent"))
    assert count is None
