"""Counts that tell the truth: only what Slack accepted counts, any answer to "how often?" is
heard, and a person forgotten in the middle of a pass leaves the rest of it recorded."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.models import Delivery, Member, Reflection, Schedule, SeenItem
from bot.services.dispatch import LEASE
from devkit.slack_sim import view_submission_body
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    deliveries,
    dispatch_at,
    dm,
    nudges,
    reflections,
    say,
    schedule_of,
    subscribe,
    text_of,
    ts_at,
)


async def fail_for_a_whole_week(app: RunningApp, clock: ManualClock, due: datetime) -> None:
    """Slack answers 500 to the nudge due at `due` and to both of its retries."""
    app.sim.fail("chat.postMessage", status=500, times=3)
    for minute in range(3):
        await dispatch_at(app, clock, due + timedelta(minutes=minute))


async def seen_items(app: RunningApp, user_id: str = "U0001") -> list[tuple[str, str]]:
    async with app.ctx.sessions() as session:
        rows = await session.execute(
            select(SeenItem.kind, SeenItem.item_id)
            .where(SeenItem.user_id == user_id)
            .order_by(SeenItem.id)
        )
        return [(row.kind, row.item_id) for row in rows]


async def nudge_weeks(app: RunningApp, clock: ManualClock, weeks: int) -> None:
    for week in range(weeks):
        await dispatch_at(app, clock, DUE + timedelta(weeks=week))


# --- only what Slack accepted counts -----------------------------------------------------


async def test_three_weeks_of_slack_server_errors_count_no_quiet_weeks_and_use_up_no_items(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    for week in range(3):
        await fail_for_a_whole_week(app, clock, DUE + timedelta(weeks=week))
    assert [(d.status, d.attempts) for d in await deliveries(app)] == [("failed", 3)] * 3
    assert (await schedule_of(app)).unanswered == 0
    assert await seen_items(app) == []  # none of those items was ever in front of them

    await dispatch_at(app, clock, DUE + timedelta(weeks=3))
    [first] = nudges(app.sim)
    assert "How often would you like them?" not in text_of(first)
    sent = (await deliveries(app))[-1]
    assert (sent.kind, sent.status) == ("nudge", "sent")
    assert await seen_items(app) == [(sent.item_kind, sent.item_id)]
    assert (await schedule_of(app)).unanswered == 1


async def test_a_how_often_question_slack_refused_is_asked_again_not_taken_as_silence(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    await nudge_weeks(app, clock, 3)  # three nudges, no reply
    await fail_for_a_whole_week(app, clock, DUE + timedelta(weeks=3))
    question = (await deliveries(app))[-1]
    assert (question.kind, question.status) == ("backoff", "failed")
    schedule = await schedule_of(app)
    assert (schedule.backoff_pending, schedule.every_weeks) == (False, 1)

    await dispatch_at(app, clock, DUE + timedelta(weeks=4))
    asked = (await deliveries(app))[-1]
    assert (asked.kind, asked.status) == ("backoff", "sent")
    assert "How often would you like them?" in text_of(nudges(app.sim)[-1])
    schedule = await schedule_of(app)
    assert schedule.every_weeks == 1 and schedule.next_due_at == DUE + timedelta(weeks=5)


async def test_a_nudge_recorded_twice_by_two_replicas_counts_once(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    held = app.sim.hold("chat.postMessage")  # Slack has the nudge; its answer is slow to come
    clock.set(DUE)
    first = asyncio.create_task(app.ctx.dispatcher.run_pass())
    await app.sim.wait_for("chat.postMessage")
    # Long enough on that another replica takes the claim over, finds the nudge in the DM's
    # history and records it as sent.
    clock.advance(LEASE + timedelta(minutes=1))
    second = await app.ctx.dispatcher.run_pass()
    assert (second.sent, second.skipped) == (0, 1)
    held.set()
    assert (await first).sent == 1  # and the first replica records it too

    [delivery] = await deliveries(app)
    assert delivery.status == "sent"
    assert (await schedule_of(app)).unanswered == 1
    assert await seen_items(app) == [(delivery.item_kind, delivery.item_id)]
    assert len(nudges(app.sim)) == 1


# --- every answer to "how often?" is heard ------------------------------------------------


async def ask_how_often(app: RunningApp, clock: ManualClock) -> Delivery:
    await subscribe(app)
    await nudge_weeks(app, clock, 4)
    question = (await deliveries(app))[-1]
    assert (question.kind, question.status) == ("backoff", "sent")
    assert (await schedule_of(app)).backoff_pending
    return question


async def test_a_dm_reply_to_the_how_often_question_answers_it_and_nudges_stay_weekly(
    app: RunningApp, clock: ManualClock
) -> None:
    question = await ask_how_often(app, clock)
    await say(app, dm("Weekly suits me, thanks.", ts_at(DUE + timedelta(weeks=3, hours=2))))
    [saved] = await reflections(app)
    assert (saved.source, saved.delivery_id) == ("dm", question.id)
    schedule = await schedule_of(app)
    assert (schedule.backoff_pending, schedule.unanswered) == (False, 0)

    await dispatch_at(app, clock, DUE + timedelta(weeks=4))
    schedule = await schedule_of(app)
    assert schedule.every_weeks == 1
    assert schedule.next_due_at == DUE + timedelta(weeks=5)
    assert (await deliveries(app))[-1].kind == "nudge"


async def slash(app: RunningApp, words: str) -> None:
    await app.slack.slash(words)
    await app.settle()


async def home_change_to_monday_nine(app: RunningApp, words: str) -> None:
    values = {
        "day": {"day_select": {"type": "static_select", "selected_option": {"value": "0"}}},
        "time": {"time_picker": {"type": "timepicker", "selected_time": "09:00"}},
    }
    body = view_submission_body("schedule_modal", values, team_id="T0001", user_id="U0001")
    assert (await app.slack.post(body)).status == 200
    await app.settle()


async def dm_command(app: RunningApp, words: str) -> None:
    await say(app, dm(words, ts_at(DUE + timedelta(weeks=3, hours=1))))


@pytest.mark.parametrize(
    ("how", "words"),
    [
        (slash, "weekly mon 9am"),
        (home_change_to_monday_nine, ""),
        (dm_command, "pause"),
        (slash, "resume"),
    ],
    ids=["weekly", "home-change", "dm-pause", "resume"],
)
async def test_a_schedule_command_after_the_how_often_question_answers_it(
    app: RunningApp, clock: ManualClock, how: object, words: str
) -> None:
    await ask_how_often(app, clock)
    clock.set(DUE + timedelta(weeks=3, hours=1))
    await how(app, words)  # type: ignore[operator]
    schedule = await schedule_of(app)
    assert (schedule.backoff_pending, schedule.unanswered) == (False, 0)
    assert await reflections(app) == []  # a command, not a reflection

    due = schedule.next_due_at
    assert due is not None
    await dispatch_at(app, clock, due)
    schedule = await schedule_of(app)
    assert (await deliveries(app))[-1].kind == "nudge"
    assert schedule.every_weeks == 1
    assert schedule.next_due_at == due + timedelta(weeks=1)


# --- forget in the middle of a pass ------------------------------------------------------


async def test_forget_confirmed_while_a_pass_is_sending_skips_that_person_and_records_the_rest(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0002")
    await subscribe(app)
    await subscribe(app, user_id="U0002")
    app.sim.clear()
    held = app.sim.hold("chat.postMessage")  # both nudges on their way, neither answered yet
    clock.set(DUE)
    dispatching = asyncio.create_task(app.ctx.dispatcher.run_pass())
    await app.sim.wait_for("chat.postMessage", count=2)

    await app.slack.click("forget_confirm", "confirm", user_id="U0001")
    [done] = await app.sim.wait_for("response_url")
    assert "Deleted" in done.body["text"]
    held.set()
    summary = await dispatching  # no StaleDataError from the forgotten person's rows

    assert summary.failed == 0
    [kept] = await deliveries(app)
    assert (kept.user_id, kept.status) == ("U0002", "sent") and kept.message_ts
    assert (await schedule_of(app, "U0002")).unanswered == 1
    assert await seen_items(app, "U0002") == [(kept.item_kind, kept.item_id)]
    async with app.ctx.sessions() as session:
        member = await session.scalar(select(Member).where(Member.user_id == "U0002"))
        assert member is not None and member.dm_channel_id == "DU0002"
        for model in (Member, Schedule, Delivery, SeenItem, Reflection):
            left = await session.scalar(select(model).where(model.user_id == "U0001"))
            assert left is None, model.__name__
