"""Weekly nudge dispatch: on time, exactly once, and careful with Slack's answers."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.db import create_engine
from bot.models import Delivery
from bot.services.dispatch import LEASE, Dispatcher, PassSummary
from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    deliveries,
    dispatch_at,
    dispatcher_with,
    dms_per_channel,
    nudges,
    run_dispatch,
    schedule_of,
    start_dispatch,
    subscribe,
    text_of,
)
from tests.seeding import seed_due_members

# --- timing and exactly once -------------------------------------------------------------


async def test_nudge_is_sent_at_the_due_minute_once_and_again_a_week_later(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    assert (await dispatch_at(app, clock, DUE - timedelta(minutes=1))).sent == 0
    assert (await dispatch_at(app, clock, DUE)).sent == 1
    assert (await dispatch_at(app, clock, DUE)).sent == 0
    assert (await dispatch_at(app, clock, DUE + timedelta(days=6))).sent == 0
    assert (await dispatch_at(app, clock, DUE + timedelta(weeks=1))).sent == 1
    assert len(nudges(app.sim)) == 2
    # The first goes to the person's id (Slack opens the DM); the DM channel is kept after it.
    posts = app.sim.calls_to("chat.postMessage")
    assert [post.body["channel"] for post in posts] == ["U0001", "DU0001"]
    assert app.sim.calls_to("conversations.open") == []


async def test_nudge_has_the_item_a_this_week_line_a_question_and_the_buttons(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    await dispatch_at(app, clock, DUE)
    [message] = nudges(app.sim)
    [delivery] = await deliveries(app)
    library = app.ctx.library
    item = library.item(delivery.item_id or "")
    question = library.question(delivery.question_id or "")
    assert question.item_id == item.id
    text = text_of(message)
    for expected in (
        item.text,
        item.this_week,
        question.text,
        "Enhancing social system",
        "private reflection",
        "Reflect",
        "Snooze a week",
        "Skip this one",
    ):
        assert expected in text
    assert message["metadata"]["event_payload"] == {"delivery_id": delivery.id}
    assert delivery.status == "sent" and delivery.message_ts


async def test_nudges_rotate_through_every_item_of_a_kind_before_repeating(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    for week in range(9):
        await dispatch_at(app, clock, DUE + timedelta(weeks=week))
        # answer each one so back-off does not kick in
        [delivery] = (await deliveries(app))[-1:]
        await app.slack.click("nudge_skip", str(delivery.id))
        await app.sim.wait_for("response_url", count=week + 2)
    sent = [(d.item_kind, d.item_id) for d in await deliveries(app)]
    assert Counter(kind for kind, _ in sent) == {"tip": 3, "practice": 3, "blocker": 3}
    blockers = [item for kind, item in sent if kind == "blocker"]
    assert len(set(blockers)) == 3  # all three blockers before any repeats


async def test_dispatch_command_prints_the_summary_for_the_instant_given(
    app: RunningApp, database_url: str
) -> None:
    await subscribe(app)
    outputs = [
        await run_dispatch(database_url, app.sim, DUE - timedelta(minutes=1)),
        await run_dispatch(database_url, app.sim, DUE),
        await run_dispatch(database_url, app.sim, DUE),
        await run_dispatch(database_url, app.sim, DUE + timedelta(weeks=1)),
    ]
    assert outputs == [
        "sent 0, skipped 0, failed 0",
        "sent 1, skipped 0, failed 0",
        "sent 0, skipped 0, failed 0",
        "sent 1, skipped 0, failed 0",
    ]


async def test_three_processes_on_postgresql_send_each_due_member_exactly_one_dm(
    postgres_url: str, sim: SlackSimulator
) -> None:
    users = seed_due_members(postgres_url, count=300, due=DUE)
    for user in users:
        sim.add_user("T0001", user)
    processes = [await start_dispatch(postgres_url, sim, DUE) for _ in range(3)]
    results = await asyncio.gather(*(process.communicate() for process in processes))
    assert all(process.returncode == 0 for process in processes), results
    sent = sum(int(out.decode().split(",")[0].split()[1]) for out, _ in results)
    assert sent == 300
    counts = dms_per_channel(sim, [f"D{user}" for user in users])
    assert set(counts.values()) == {1} and len(counts) == 300


async def test_a_pass_killed_mid_fan_out_is_finished_by_the_next_without_a_second_dm(
    database_url: str, sim: SlackSimulator
) -> None:
    users = seed_due_members(database_url, count=200, due=DUE)
    for user in users:
        sim.add_user("T0001", user)
    sim.latency = 0.05  # a real network's pace, so the kill lands mid-fan-out
    process = await start_dispatch(database_url, sim, DUE)
    await sim.wait_for("chat.postMessage", count=30, timeout=30)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    posted_before_kill = len(sim.calls_to("chat.postMessage"))
    assert posted_before_kill < 200
    sim.latency = 0.0
    summary = await run_dispatch(database_url, sim, DUE + timedelta(minutes=3))
    sent = int(summary.split(",")[0].split()[1])
    assert 0 < sent < 200
    counts = dms_per_channel(sim, [f"D{user}" for user in users])
    assert len(counts) == 200 and set(counts.values()) == {1}
    assert await delivery_statuses(database_url) == {"sent": 200}


async def delivery_statuses(database_url: str) -> Counter[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(Delivery.status))
            return Counter(row.status for row in rows)
    finally:
        await engine.dispose()


# --- what Slack says back ----------------------------------------------------------------


async def test_rate_limited_once_waits_and_sends_exactly_one_dm(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    app.sim.fail("chat.postMessage", status=429, retry_after=0)
    summary = await dispatch_at(app, clock, DUE)
    assert (summary.sent, summary.failed) == (1, 0)
    assert len(app.sim.calls_to("chat.postMessage")) == 2
    assert len(nudges(app.sim)) == 1


async def test_inactive_member_account_ends_the_subscription_for_good(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    app.sim.fail("chat.postMessage", error="account_inactive")
    summary = await dispatch_at(app, clock, DUE)
    assert summary.failed == 1
    schedule = await schedule_of(app)
    assert schedule.status == "ended" and schedule.next_due_at is None
    app.sim.clear()
    assert (await dispatch_at(app, clock, DUE + timedelta(weeks=1))).sent == 0
    assert app.sim.calls_to("chat.postMessage") == []


async def test_member_slack_cannot_find_ends_only_that_subscription(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0002")
    await subscribe(app)
    await subscribe(app, user_id="U0002")
    app.sim.add_user("T0001", "U0002", deleted=True)  # deactivated since
    summary = await dispatch_at(app, clock, DUE)
    assert (summary.sent, summary.failed) == (1, 1)
    statuses = sorted([(await schedule_of(app, u)).status for u in ("U0001", "U0002")])
    assert statuses == ["active", "ended"]
    # Posting to the id found no DM; conversations.open said why.
    [opened] = app.sim.calls_to("conversations.open")
    assert opened.body["users"] == "U0002" and opened.failed == "user_disabled"


async def test_a_first_dm_slack_finds_no_way_to_is_posted_in_the_dm_it_opens(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    app.sim.fail("chat.postMessage", error="channel_not_found", channel="U0001")
    assert (await dispatch_at(app, clock, DUE)).sent == 1
    posts = app.sim.calls_to("chat.postMessage")
    assert [(post.body["channel"], post.failed) for post in posts] == [
        ("U0001", "error=channel_not_found"),
        ("DU0001", None),
    ]
    assert (await schedule_of(app, "U0001")).status == "active"


async def test_revoked_bot_token_stops_every_schedule_in_the_workspace(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0002")
    await subscribe(app)
    await subscribe(app, user_id="U0002")
    app.sim.revoke(DEFAULT_TOKEN)
    summary = await dispatch_at(app, clock, DUE)
    assert summary.sent == 0
    for user in ("U0001", "U0002"):
        schedule = await schedule_of(app, user)
        assert schedule.status == "stopped" and schedule.next_due_at is None
    assert nudges(app.sim) == []  # Slack refused the token
    app.sim.clear()
    assert (await dispatch_at(app, clock, DUE + timedelta(weeks=1))).sent == 0
    assert app.sim.calls == []  # nothing more is tried in that workspace


async def test_uninstall_event_stops_everything_for_that_workspace(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    reply = await app.slack.event({"type": "app_uninstalled"})
    assert reply.status == 200
    await app.settle()
    app.sim.clear()
    assert (await dispatch_at(app, clock, DUE)).sent == 0
    assert app.sim.calls_to("chat.postMessage") == []
    assert (await schedule_of(app)).status == "stopped"


async def test_tokens_revoked_event_for_the_bot_stops_the_workspace(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    event = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT0001"]}}
    assert (await app.slack.event(event)).status == 200
    await app.settle()
    assert (await dispatch_at(app, clock, DUE)).sent == 0


async def test_server_errors_retry_on_later_passes_at_most_three_times(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    app.sim.fail("chat.postMessage", status=500, times=10)
    await dispatch_at(app, clock, DUE)
    assert len(app.sim.calls_to("chat.postMessage")) == 1  # not again in the same pass
    for minute in range(1, 5):
        await dispatch_at(app, clock, DUE + timedelta(minutes=minute))
    assert len(app.sim.calls_to("chat.postMessage")) == 3
    [delivery] = await deliveries(app)
    assert (delivery.status, delivery.attempts) == ("failed", 3)


async def test_server_error_then_success_sends_one_dm(app: RunningApp, clock: ManualClock) -> None:
    await subscribe(app)
    app.sim.fail("chat.postMessage", status=503, times=1)
    assert (await dispatch_at(app, clock, DUE)).failed == 1
    assert (await dispatch_at(app, clock, DUE + timedelta(minutes=1))).sent == 1
    assert len(nudges(app.sim)) == 1


async def test_after_two_days_down_the_nudge_is_missed_not_sent_late(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    summary = await dispatch_at(app, clock, DUE + timedelta(days=2))
    assert (summary.sent, summary.skipped) == (0, 1)
    [delivery] = await deliveries(app)
    assert delivery.status == "missed"
    assert (await schedule_of(app)).next_due_at == DUE + timedelta(weeks=1)
    assert app.sim.calls_to("chat.postMessage") == []


async def test_a_little_late_after_a_restart_still_sends(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    assert (await dispatch_at(app, clock, DUE + timedelta(hours=3))).sent == 1


# --- the rhythm --------------------------------------------------------------------------


async def test_three_quiet_weeks_bring_a_how_often_question_then_fortnightly(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    for week in range(4):
        await dispatch_at(app, clock, DUE + timedelta(weeks=week))
    kinds = [d.kind for d in await deliveries(app)]
    assert kinds == ["nudge", "nudge", "nudge", "backoff"]
    assert "How often would you like them?" in text_of(nudges(app.sim)[-1])
    await dispatch_at(app, clock, DUE + timedelta(weeks=4))  # no answer: fortnightly from now
    schedule = await schedule_of(app)
    assert schedule.every_weeks == 2
    assert schedule.next_due_at == DUE + timedelta(weeks=6)


async def test_keep_weekly_answer_resets_the_quiet_count(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    for week in range(4):
        await dispatch_at(app, clock, DUE + timedelta(weeks=week))
    backoff = (await deliveries(app))[-1]
    app.sim.clear()
    await app.slack.click("backoff_weekly", str(backoff.id))
    [reply] = await app.sim.wait_for("response_url")
    assert "Weekly it is." in reply.body["text"]
    await dispatch_at(app, clock, DUE + timedelta(weeks=4))
    schedule = await schedule_of(app)
    assert (schedule.every_weeks, schedule.unanswered) == (1, 1)


async def test_snooze_button_moves_the_next_nudge_a_week_on(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    await dispatch_at(app, clock, DUE)
    [delivery] = await deliveries(app)
    app.sim.clear()
    await app.slack.click("nudge_snooze", str(delivery.id))
    [reply] = await app.sim.wait_for("response_url")
    assert "Snoozed for a week." in reply.body["text"]
    assert "Next nudge: Monday 14 December" in reply.body["text"]
    assert (await schedule_of(app)).next_due_at == DUE + timedelta(weeks=2)


async def test_after_a_reflection_the_next_nudge_names_last_weeks_item(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    await dispatch_at(app, clock, DUE)
    [first] = await deliveries(app)
    async with app.ctx.sessions() as session, session.begin():
        await session.execute(
            update(Delivery).where(Delivery.id == first.id).values(reflected_at=DUE)
        )
    await dispatch_at(app, clock, DUE + timedelta(weeks=1))
    item = app.ctx.library.item(first.item_id or "")
    assert f"Last time you reflected on “{item.text}”" in text_of(nudges(app.sim)[-1])


async def test_spring_forward_gap_in_auckland_sends_at_half_past_three(
    app: RunningApp, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 9, 20, 0, 0, tzinfo=UTC))
    await subscribe(app, "weekly sun 2:30am")
    gap_instant = datetime(2026, 9, 26, 14, 30, tzinfo=UTC)  # 03:30 NZDT on 27 September
    assert (await schedule_of(app)).next_due_at == gap_instant
    assert (await dispatch_at(app, clock, gap_instant - timedelta(minutes=1))).sent == 0
    assert (await dispatch_at(app, clock, gap_instant)).sent == 1


async def test_time_zone_is_read_before_every_nudge_and_a_move_retimes_that_same_nudge(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)  # zone read on Tuesday: Auckland
    app.sim.add_user("T0001", "U0001", tz="Europe/London")  # they moved
    app.sim.clear()
    # Read again before the nudge, though only six days on: this Monday's nudge is at 9:00
    # in London, not an hour before nor a week later.
    assert (await dispatch_at(app, clock, DUE)).sent == 0
    london_monday_nine = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert (await schedule_of(app)).next_due_at == london_monday_nine
    assert (await dispatch_at(app, clock, london_monday_nine)).sent == 1
    assert (await schedule_of(app)).next_due_at == london_monday_nine + timedelta(weeks=1)
    assert len(app.sim.calls_to("users.info")) == 2  # once in each pass with a nudge due


async def test_a_slow_pass_renews_its_claims_so_a_second_replica_sends_nothing_twice(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    users = seed_due_members(database_url, count=12, due=DUE)
    for user in users:
        app.sim.add_user("T0001", user)
    app.sim.latency = 0.02
    ctx = app.ctx
    slow = dispatcher_with(ctx, clock, per_workspace=1, renew_every=0.01)
    clock.set(DUE)
    first = asyncio.create_task(slow.run_pass())
    await app.sim.wait_for("chat.postMessage", count=2)
    clock.advance(LEASE * 2)  # long enough that an unrenewed claim would look abandoned
    await wait_until_claims_renewed(app, clock.now)
    second = await ctx.dispatcher.run_pass()  # another replica, at the same moment
    summary = await first
    assert second.sent == 0 and summary.sent == 12
    counts = dms_per_channel(app.sim, [f"D{user}" for user in users])
    assert len(counts) == 12 and set(counts.values()) == {1}


async def wait_until_claims_renewed(app: RunningApp, instant: datetime) -> None:
    """Until some still-waiting delivery carries a claim renewed at `instant`."""
    for _ in range(500):
        async with app.ctx.sessions() as session:
            renewed = await session.scalar(
                select(Delivery.id).where(
                    Delivery.status == "pending", Delivery.claimed_at == instant
                )
            )
        if renewed is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("claims were not renewed")


# --- stopping (SIGTERM) ------------------------------------------------------------------


async def start_small_claims_pass(
    app: RunningApp, clock: ManualClock, database_url: str
) -> tuple[Dispatcher, asyncio.Task[PassSummary], asyncio.Event, list[str]]:
    """40 members due, claimed 10 at a time, every post held (taken, its answer kept back): a
    pass under way with 8 posts in Slack's hands and 2 more claimed, waiting their turn."""
    users = seed_due_members(database_url, count=40, due=DUE)
    for user in users:
        app.sim.add_user("T0001", user)
    answers = app.sim.hold("chat.postMessage")
    dispatcher = dispatcher_with(
        app.ctx, clock, batch_size=10, batches_in_flight=1, claimed_per_workspace=10
    )
    clock.set(DUE)
    running = asyncio.create_task(dispatcher.run_pass())
    await app.sim.wait_for("chat.postMessage", count=8)
    return dispatcher, running, answers, users


async def test_a_stopping_pass_sends_what_it_claimed_and_claims_nothing_more(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    dispatcher, running, answers, users = await start_small_claims_pass(app, clock, database_url)
    dispatcher.stop()
    answers.set()
    assert (await running).sent == 10
    assert await delivery_statuses(database_url) == {"sent": 10}
    assert (await dispatch_at(app, clock, DUE)).sent == 30  # the next process's pass
    counts = dms_per_channel(app.sim, [f"D{user}" for user in users])
    assert len(counts) == 40 and set(counts.values()) == {1}


async def test_sends_abandoned_at_shutdown_stay_pending_and_go_once_after_the_lease(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    dispatcher, running, answers, users = await start_small_claims_pass(app, clock, database_url)
    dispatcher.stop()
    assert dispatcher.abandon() == 10
    summary = await running  # returns, raising nothing: what it abandoned is not a failure
    assert (summary.sent, summary.skipped, summary.failed) == (0, 0, 0)
    assert await delivery_statuses(database_url) == {"pending": 10}
    answers.set()
    # Too soon: the claims are not yet taken for abandoned, and no one is sent twice.
    assert (await dispatch_at(app, clock, DUE + LEASE / 2)).sent == 30
    # After the lease: the 8 Slack took are found in their DMs, the 2 others sent.
    later = await dispatch_at(app, clock, DUE + LEASE + timedelta(minutes=1))
    assert (later.sent, later.skipped, later.failed) == (2, 8, 0)
    counts = dms_per_channel(app.sim, [f"D{user}" for user in users])
    assert len(counts) == 40 and set(counts.values()) == {1}
    assert await delivery_statuses(database_url) == {"sent": 40}


async def test_a_dropped_connection_is_not_resent_blindly_but_checked_next_pass(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    await dispatch_at(app, clock, DUE)  # opens the DM once
    app.sim.fail("chat.postMessage", drop=True)
    summary = await dispatch_at(app, clock, DUE + timedelta(weeks=1))
    assert (summary.sent, summary.failed) == (0, 1)
    assert len(app.sim.calls_to("chat.postMessage")) == 2  # no automatic second attempt
    app.sim.clear()
    assert (await dispatch_at(app, clock, DUE + timedelta(weeks=1, minutes=1))).sent == 1
    assert [call.method for call in app.sim.calls] == ["conversations.history", "chat.postMessage"]


async def test_a_nudge_whose_item_left_the_content_fails_alone_without_stopping_the_pass(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    app.sim.fail("chat.postMessage", status=500)
    await dispatch_at(app, clock, DUE)
    async with app.ctx.sessions() as session, session.begin():
        await session.execute(update(Delivery).values(item_id="tip-retired-since"))
    summary = await dispatch_at(app, clock, DUE + timedelta(minutes=1))
    assert (summary.sent, summary.failed) == (0, 1)
    [delivery] = await deliveries(app)
    assert (delivery.status, delivery.error) == ("failed", "content_retired")


async def test_beside_requests_a_pass_has_at_most_sixteen_slack_calls_under_way(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    users = seed_due_members(database_url, count=40, due=DUE)
    for user in users:
        app.sim.add_user("T0001", user)
    dispatcher = dispatcher_with(app.ctx, clock, per_workspace=64)
    dispatcher.beside_requests()  # as `leading-bot serve` does when it runs the scheduler
    held = app.sim.hold("chat.postMessage")
    clock.set(DUE)
    running = asyncio.ensure_future(dispatcher.run_pass())
    await app.sim.wait_for("chat.postMessage", count=16)
    with pytest.raises(TimeoutError):  # no seventeenth while sixteen are unanswered
        await app.sim.wait_for("chat.postMessage", count=17, timeout=0.3)
    held.set()
    assert (await running).sent == 40
