"""The right nudge at the right time through zone moves and DST weeks, via the real entry points.

Signed requests to the running app and dispatch passes at chosen instants (ManualClock), on
SQLite and PostgreSQL, with real zones from the simulator's users.info.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select, update

from bot import blocks
from bot.clock import ManualClock
from bot.db import sync_url
from bot.migrate import alembic_config, upgrade
from bot.models import Delivery, Member, Schedule, Workspace
from bot.services.timing import retimed_for_zone
from devkit.slack_sim import view_submission_body
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    action_ids,
    blocks_text,
    dispatch_at,
    dispatcher_with,
    message_text,
    press,
)
from tests.seeding import seed_due_members

NZ = ZoneInfo("Pacific/Auckland")
CHATHAM = ZoneInfo("Pacific/Chatham")
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def reply_to(app: RunningApp, words: str, user_id: str = "U0001") -> str:
    """`/leading-tip <words>`: the answer, whether in the ack or at the response URL."""
    app.sim.clear()
    reply = await app.slack.slash(words, user_id=user_id)
    assert reply.status == 200
    await app.settle()
    if reply.body:
        return str(reply.json().get("text", ""))
    [sent] = await app.sim.wait_for("response_url")
    return str(sent.body["text"])


async def click(app: RunningApp, action_id: str, value: str) -> str:
    """A button on a nudge; the answer comes to the response URL."""
    app.sim.clear()
    assert (await app.slack.click(action_id, value)).status == 200
    await app.settle()
    [sent] = await app.sim.wait_for("response_url")
    return str(sent.body["text"])


async def save_on_home(app: RunningApp, weekday: int, hhmm: str) -> None:
    """Home → Change, then save the modal with this day and time."""
    await press(app, blocks.HOME_CHANGE_ACTION, blocks.HOME_CHANGE_ACTION)
    values = {
        blocks.DAY_BLOCK: {
            blocks.DAY_INPUT: {"type": "static_select", "selected_option": {"value": str(weekday)}}
        },
        blocks.TIME_BLOCK: {blocks.TIME_INPUT: {"type": "timepicker", "selected_time": hhmm}},
    }
    body = view_submission_body(blocks.SCHEDULE_MODAL, values, team_id="T0001", user_id="U0001")
    reply = await app.slack.post(body)
    assert reply.status == 200 and reply.body == ""
    await app.settle()


async def schedule_of(app: RunningApp, user_id: str = "U0001") -> Schedule:
    async with app.ctx.sessions() as session:
        schedule = await session.scalar(select(Schedule).where(Schedule.user_id == user_id))
    assert schedule is not None
    return schedule


async def sent_at(app: RunningApp, user_id: str = "U0001") -> list[datetime]:
    """When each nudge Slack accepted went out, in order."""
    async with app.ctx.sessions() as session:
        rows = await session.scalars(
            select(Delivery.sent_at)
            .where(Delivery.user_id == user_id, Delivery.status == "sent")
            .order_by(Delivery.sent_at)
        )
        return [instant for instant in rows if instant is not None]


async def last_delivery_id(app: RunningApp) -> int:
    async with app.ctx.sessions() as session:
        delivery_id = await session.scalar(select(Delivery.id).order_by(Delivery.id.desc()))
    assert delivery_id is not None
    return delivery_id


async def zone_last_read(app: RunningApp, instant: datetime, user_id: str = "U0001") -> None:
    """Arrange when the zone was last read from Slack (replies re-read it after a week)."""
    async with app.ctx.sessions() as session, session.begin():
        await session.execute(
            update(Member).where(Member.user_id == user_id).values(tz_checked_at=instant)
        )


# --- 1. a zone change re-times the next nudge once, from every path -----------------------

MOVED_AT = utc("2026-12-05T12:00")  # Saturday, between Auckland's two Monday nudges
LONDON_MONDAY = utc("2026-12-07T09:00")  # Monday 7 December, 9:00 am in London
AUCKLAND_MONDAY = utc("2026-12-06T20:00")  # Monday 7 December, 9:00 am in Auckland


async def take(app: RunningApp, path: str) -> None:
    """One of the ways the app learns a member's zone from Slack."""
    if path == "home_change":
        await press(app, blocks.HOME_CHANGE_ACTION, blocks.HOME_CHANGE_ACTION)
        assert app.sim.calls_to("views.open")
    elif path == "mistyped_pause":
        assert "Nothing was changed" in await reply_to(app, "pause -3")
    elif path != "dispatcher":
        await click(app, path, str(await last_delivery_id(app)))


@pytest.mark.parametrize(
    ("path", "following"),
    [
        ("nudge_skip", LONDON_MONDAY + timedelta(weeks=1)),
        ("backoff_weekly", LONDON_MONDAY + timedelta(weeks=1)),
        ("backoff_fortnightly", LONDON_MONDAY + timedelta(weeks=2)),
        ("home_change", LONDON_MONDAY + timedelta(weeks=1)),
        ("mistyped_pause", LONDON_MONDAY + timedelta(weeks=1)),
        ("dispatcher", LONDON_MONDAY + timedelta(weeks=1)),
    ],
)
async def test_a_move_to_london_retimes_the_next_nudge_once_whichever_path_learns_it(
    app: RunningApp, clock: ManualClock, path: str, following: datetime
) -> None:
    """Monday 9:00 in Auckland, one nudge, then a move to London: the next is Monday 9:00 in
    London, not also Monday 9:00 in Auckland eleven hours before it (2026-12-06 20:00 UTC)."""
    await reply_to(app, "weekly")
    assert (await dispatch_at(app, clock, DUE)).sent == 1
    app.sim.add_user("T0001", "U0001", tz="Europe/London")
    clock.set(MOVED_AT)
    await zone_last_read(app, MOVED_AT - timedelta(days=8))

    await take(app, path)

    if path != "dispatcher":
        assert (await schedule_of(app)).next_due_at == LONDON_MONDAY
    assert (await dispatch_at(app, clock, AUCKLAND_MONDAY)).sent == 0
    assert (await schedule_of(app)).next_due_at == LONDON_MONDAY
    assert (await dispatch_at(app, clock, LONDON_MONDAY)).sent == 1
    assert await sent_at(app) == [DUE, LONDON_MONDAY]
    assert (await schedule_of(app)).next_due_at == following


async def test_a_move_east_after_the_new_zones_slot_sends_this_weeks_nudge_late_once(
    app: RunningApp, clock: ManualClock
) -> None:
    """London to Auckland, noticed at 10 pm Monday in Auckland: Monday 9:00 there has gone by,
    so this week's nudge goes now (not skipped: that would leave 13 days), and the next is
    Monday 9:00 in Auckland, 6 days 11 hours on (never two in one week)."""
    app.sim.add_user("T0001", "U0001", tz="Europe/London")
    await reply_to(app, "weekly")
    london_monday = utc("2026-11-30T09:00")
    assert (await dispatch_at(app, clock, london_monday)).sent == 1
    app.sim.add_user("T0001", "U0001", tz="Pacific/Auckland")

    assert (await dispatch_at(app, clock, LONDON_MONDAY)).sent == 1
    assert (await schedule_of(app)).next_due_at == utc("2026-12-13T20:00")
    assert (await dispatch_at(app, clock, utc("2026-12-13T20:00"))).sent == 1
    assert await sent_at(app) == [london_monday, LONDON_MONDAY, utc("2026-12-13T20:00")]


def test_a_retimed_nudge_is_never_earlier_than_its_floor() -> None:
    """The floor is now and 12 hours after the previous nudge: a slot before it waits for it."""
    due = utc("2026-12-06T20:00")  # Monday 9:00 in Auckland
    floor = utc("2026-12-07T12:00")
    assert retimed_for_zone(due, 0, time(9, 0), NZ, LONDON, floor) == floor
    assert retimed_for_zone(due, 0, time(9, 0), NZ, LONDON, DUE) == LONDON_MONDAY


async def test_changing_the_time_right_after_a_nudge_waits_a_week_not_hours(
    app: RunningApp, clock: ManualClock
) -> None:
    await reply_to(app, "weekly")
    assert (await dispatch_at(app, clock, DUE)).sent == 1  # Monday 9:00 am
    clock.set(DUE + timedelta(minutes=30))
    text = await reply_to(app, "weekly mon 8pm")
    assert "Next nudge: Monday 7 December, 8:00 pm" in text  # not 11 hours after the last
    await reply_to(app, "pause")
    text = await reply_to(app, "resume")
    assert "Next nudge: Monday 7 December, 8:00 pm" in text


# --- 3. the zone is read before every nudge, once per member per pass ---------------------


async def test_a_late_nudge_that_notices_a_move_keeps_the_next_one_on_schedule(
    app: RunningApp, clock: ManualClock
) -> None:
    """Monday 9:00 in New York, then a move to Auckland noticed by a pass 11 hours late: that
    nudge goes, and the next is Monday 14 December 9:00 in Auckland, not a week after."""
    app.sim.add_user("T0001", "U0001", tz="America/New_York")
    await reply_to(app, "weekly")
    new_york_monday = utc("2026-11-30T14:00")
    assert (await dispatch_at(app, clock, new_york_monday)).sent == 1
    app.sim.add_user("T0001", "U0001", tz="Pacific/Auckland")

    late = utc("2026-12-08T01:00")  # Tuesday 2:00 pm in Auckland
    assert (await dispatch_at(app, clock, late)).sent == 1
    assert (await schedule_of(app)).next_due_at == utc("2026-12-13T20:00")


async def test_one_users_info_per_member_per_pass_across_batches(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    users = seed_due_members(database_url, count=12, due=DUE)
    for user in users[:6]:
        app.sim.add_user("T0001", user)
    for user in users[6:]:
        app.sim.add_user("T0001", user, tz="America/New_York")  # moved: due later today
    ctx = app.ctx
    small_batches = dispatcher_with(ctx, clock, batch_size=5)
    app.sim.clear()
    clock.set(DUE)
    assert (await small_batches.run_pass()).sent == 6
    asked = [call.body["user"] for call in app.sim.calls_to("users.info")]
    assert sorted(asked) == sorted(users)
    clock.set(utc("2026-11-30T14:00"))  # Monday 9:00 am in New York
    app.sim.clear()
    assert (await small_batches.run_pass()).sent == 6
    assert sorted(call.body["user"] for call in app.sim.calls_to("users.info")) == users[6:]


@pytest.mark.parametrize(
    "fault",
    [
        {"error": "internal_error"},  # Slack answered with an error
        # The connection dropped twice: aiohttp itself tries a GET once more on a new one.
        {"drop": True, "times": 2},
    ],
)
async def test_when_the_zone_cannot_be_read_the_nudge_goes_in_the_stored_zone(
    app: RunningApp, clock: ManualClock, fault: dict[str, object]
) -> None:
    await reply_to(app, "weekly")
    app.sim.add_user("T0001", "U0001", tz="Europe/London")
    app.sim.fail("users.info", **fault)  # type: ignore[arg-type]
    assert (await dispatch_at(app, clock, DUE)).sent == 1
    assert (await schedule_of(app)).next_due_at == DUE + timedelta(weeks=1)


async def test_a_rate_limited_zone_read_is_waited_out_and_the_move_honoured(
    app: RunningApp, clock: ManualClock
) -> None:
    await reply_to(app, "weekly")
    app.sim.add_user("T0001", "U0001", tz="Europe/London")
    app.sim.clear()
    app.sim.fail("users.info", status=429, retry_after=0)
    assert (await dispatch_at(app, clock, DUE)).sent == 0
    assert (await schedule_of(app)).next_due_at == utc("2026-11-30T09:00")
    assert len(app.sim.calls_to("users.info")) == 2


# --- 2. a week is a calendar week ---------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "monday", "paused_until", "next_nudge"),
    [
        # Clocks go back the Sunday after: 168 hours on is 8:30 am, before that Monday's nudge.
        ("Pacific/Auckland", date(2026, 3, 30), "6 April 2026", "Monday 13 April"),
        ("Pacific/Chatham", date(2026, 3, 30), "6 April 2026", "Monday 13 April"),
        ("Europe/London", date(2026, 10, 19), "26 October 2026", "Monday 2 November"),
        ("America/New_York", date(2026, 10, 26), "2 November 2026", "Monday 9 November"),
    ],
)
async def test_snooze_is_a_calendar_week_across_the_clocks_going_back(
    app: RunningApp, clock: ManualClock, tz: str, monday: date, paused_until: str, next_nudge: str
) -> None:
    zone = ZoneInfo(tz)
    app.sim.add_user("T0001", "U0001", tz=tz)
    clock.set(datetime.combine(monday - timedelta(days=2), time(12, 0), tzinfo=zone))
    await reply_to(app, "weekly")
    nudge = datetime.combine(monday, time(9, 0), tzinfo=zone).astimezone(UTC)
    assert (await dispatch_at(app, clock, nudge)).sent == 1
    clock.set(nudge + timedelta(minutes=30))  # 9:30 am that Monday

    text = await click(app, blocks.NUDGE_SNOOZE_ACTION, str(await last_delivery_id(app)))

    assert f"Paused until {paused_until}." in text
    assert f"Next nudge: {next_nudge}, 9:00 am" in text


@pytest.mark.parametrize(
    ("tz", "monday", "paused_until", "next_nudge"),
    [
        # Clocks go forward the Sunday after: 168 hours on is 9:30 am, past the next nudge.
        ("Pacific/Auckland", date(2026, 9, 21), "27 September 2026", "Monday 28 September"),
        ("Pacific/Chatham", date(2026, 9, 21), "27 September 2026", "Monday 28 September"),
        ("Europe/London", date(2026, 3, 23), "29 March 2026", "Monday 30 March"),
        ("America/New_York", date(2026, 3, 2), "8 March 2026", "Monday 9 March"),
    ],
)
async def test_pause_is_a_calendar_week_across_the_clocks_going_forward(
    app: RunningApp, clock: ManualClock, tz: str, monday: date, paused_until: str, next_nudge: str
) -> None:
    zone = ZoneInfo(tz)
    app.sim.add_user("T0001", "U0001", tz=tz)
    clock.set(datetime.combine(monday, time(8, 30), tzinfo=zone))  # before that day's nudge
    await reply_to(app, "weekly")

    text = await reply_to(app, "pause")

    assert f"Paused until {paused_until}." in text
    assert f"Next nudge: {next_nudge}, 9:00 am" in text  # one nudge skipped, not two


# --- 4. one meaning of "paused until": a local date, inclusive ----------------------------

MONDAY_TEN = utc("2026-11-29T21:00")  # Monday 30 November, 10:00 am in Auckland


async def test_pause_then_saving_the_same_day_and_time_keeps_the_next_nudge_after_the_pause(
    app: RunningApp, clock: ManualClock
) -> None:
    await reply_to(app, "weekly")
    clock.set(MONDAY_TEN)
    text = await reply_to(app, "pause 1")
    assert "Paused until 7 December 2026." in text
    assert "Next nudge: Monday 14 December, 9:00 am" in text

    text = await reply_to(app, "weekly mon 9am")

    assert "Paused until 7 December 2026." in text
    assert "Next nudge: Monday 14 December, 9:00 am" in text
    assert (await schedule_of(app)).next_due_at == utc("2026-12-13T20:00")


async def test_pause_then_saving_the_same_day_and_time_on_home_keeps_the_pause(
    app: RunningApp, clock: ManualClock
) -> None:
    await reply_to(app, "weekly")
    clock.set(MONDAY_TEN)
    await reply_to(app, "pause")

    await save_on_home(app, 0, "09:00")

    home = app.sim.calls_to("views.publish")[-1].body["view"]["blocks"]
    assert "Paused until 7 December 2026." in blocks_text(home)
    assert "Next nudge: Monday 14 December, 9:00 am" in blocks_text(home)
    assert (await schedule_of(app)).next_due_at == utc("2026-12-13T20:00")


async def test_home_still_shows_the_pause_on_its_last_day(
    app: RunningApp, clock: ManualClock
) -> None:
    await reply_to(app, "weekly")
    clock.set(MONDAY_TEN)
    await reply_to(app, "pause")
    clock.set(utc("2026-12-07T10:00"))  # Monday 7 December, 11:00 pm in Auckland

    await save_on_home(app, 0, "09:00")

    home = app.sim.calls_to("views.publish")[-1].body["view"]["blocks"]
    assert "Paused until 7 December 2026." in blocks_text(home)
    assert blocks.HOME_RESUME_ACTION in action_ids(home)


@pytest.mark.parametrize(("words", "reason"), [("pause", "paused"), ("stop", "stopped")])
async def test_a_refused_nudge_waiting_to_retry_is_not_sent_after_pause_or_stop(
    app: RunningApp, clock: ManualClock, words: str, reason: str
) -> None:
    await reply_to(app, "weekly")
    app.sim.fail("chat.postMessage", status=500)
    assert (await dispatch_at(app, clock, DUE)).failed == 1  # waits for a later pass
    clock.set(DUE + timedelta(minutes=1))
    await reply_to(app, words)

    assert (await dispatch_at(app, clock, DUE + timedelta(minutes=10))).sent == 0
    assert await sent_at(app) == []
    async with app.ctx.sessions() as session:
        delivery = await session.scalar(select(Delivery))
    assert delivery is not None and (delivery.status, delivery.error) == ("missed", reason)


async def test_stats_count_a_pause_on_its_last_day(app: RunningApp, clock: ManualClock) -> None:
    app.sim.add_user("T0001", "U0001", is_admin=True)
    await reply_to(app, "weekly")
    clock.set(MONDAY_TEN)
    await reply_to(app, "pause")
    clock.set(utc("2026-12-07T10:00"))  # Monday 7 December, 11:00 pm in Auckland

    app.sim.clear()
    await app.slack.slash("stats")
    await app.settle()
    [reply] = app.sim.calls_to("response_url")

    assert "Subscribers: *1* (1 paused)" in message_text(reply.body)


def test_pauses_saved_before_0007_become_their_last_paused_day(database_url: str) -> None:
    """A pause in effect at upgrade reads the new way: never a paused day with a nudge on it."""
    command.downgrade(alembic_config(database_url), "0006")
    engine = create_engine(sync_url(database_url))
    now = utc("2026-11-29T00:00")
    with engine.begin() as connection:
        connection.execute(insert(Workspace).values(team_id="T0001", created_at=now))
        for user in ("U0001", "U0002"):
            connection.execute(
                insert(Member).values(
                    team_id="T0001", user_id=user, tz="Pacific/Auckland", created_at=now
                )
            )
        common = {"team_id": "T0001", "weekday": 0, "local_minutes": 540, "status": "active"}
        connection.execute(
            insert(Schedule),
            [
                # `pause until 2027-01-11` as it was: the nudge on the 11th itself.
                {
                    **common,
                    "user_id": "U0001",
                    "paused_until": date(2027, 1, 11),
                    "next_due_at": utc("2027-01-10T20:00"),
                    "created_at": now,
                    "updated_at": now,
                },
                # `pause` on a Monday after that day's nudge: already the new way.
                {
                    **common,
                    "user_id": "U0002",
                    "paused_until": date(2026, 12, 7),
                    "next_due_at": utc("2026-12-13T20:00"),
                    "created_at": now,
                    "updated_at": now,
                },
            ],
        )
    upgrade(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Schedule.user_id, Schedule.paused_until).order_by(Schedule.user_id)
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("U0001", date(2027, 1, 10)),
        ("U0002", date(2026, 12, 7)),
    ]
