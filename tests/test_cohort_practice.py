"""A cohort's shared practice: `/leading-tip cohort practice on` posts one practice idea in the
channel on the cohort's day and time, in the zone of whoever turned it on; exactly once however
many schedulers run (the database claims each week's post); never after a long delay; never when
off; and replies in the channel are never stored. Through signed requests to the running app,
the simulator and the scheduler's own job, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app_context import build_context
from bot.clock import ManualClock
from bot.config import Settings
from bot.models import CohortPracticePost, Delivery, Reflection
from devkit.slack_sim import DEFAULT_BOT_USER_ID, RecordedCall, SlackSimulator
from scheduler.runner import build_scheduler, post_cohort_practice
from tests.conftest import RunningApp
from tests.helpers import blocks_text, command_message, message_text, say, ts_at

CHANNEL = "C0PRACTICE"
# The cohort meets on Wednesdays at 9:00 am. The lead who turns practice on is in Sydney, so the
# post comes at 9:00 am Sydney time (22:00 UTC on Tuesday), not at the members' own 9:00 am.
SYDNEY_9AM = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # Wednesday 25 November, AEDT
AUCKLAND_9AM = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)  # the same morning in Auckland


def posts_in(sim: SlackSimulator, channel: str = CHANNEL) -> list[RecordedCall]:
    return [
        call
        for call in sim.calls_to("chat.postMessage")
        if call.body.get("channel") == channel and call.failed is None
    ]


async def say_in_channel(app: RunningApp, words: str, user_id: str = "ULEAD") -> str:
    message = await command_message(app, words, user_id, channel_id=CHANNEL)
    await app.settle()
    return message_text(message)


async def arrange_cohort(app: RunningApp, practice: bool = True) -> None:
    """A cohort of four on Wednesdays at 9am, led by ULEAD (an admin, in Sydney)."""
    sim = app.sim
    sim.add_user("T0001", "ULEAD", tz="Australia/Sydney", is_admin=True)
    for user in ("UAROHA", "UBEN", "UKIRI"):
        sim.add_user("T0001", user, tz="Pacific/Auckland")
    members = [DEFAULT_BOT_USER_ID, "ULEAD", "UAROHA", "UBEN", "UKIRI"]
    sim.set_channel_members("T0001", CHANNEL, members)
    assert "now a cohort" in await say_in_channel(app, "cohort wed 9am")
    if practice:
        reply = await say_in_channel(app, "cohort practice on")
        assert "Practice posts are on. Each Wednesday at 9:00 am (Australia/Sydney time)" in reply
        assert "aren't kept as reflections" in reply


async def practice_at(app: RunningApp, clock: ManualClock, instant: datetime) -> None:
    clock.set(instant)
    await post_cohort_practice(app.ctx)


async def post_rows(app: RunningApp) -> list[CohortPracticePost]:
    async with app.ctx.sessions() as session:
        return list(
            await session.scalars(select(CohortPracticePost).order_by(CohortPracticePost.id))
        )


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """UHEAD is named in ADMIN_USER_IDS (and is no admin in Slack)."""
    return settings.model_copy(update={"admin_user_ids": "UHEAD"})


async def test_the_practice_is_posted_once_on_the_cohorts_day_in_the_leads_zone(
    app: RunningApp, clock: ManualClock
) -> None:
    await arrange_cohort(app)
    app.sim.clear()

    await practice_at(app, clock, AUCKLAND_9AM)  # the members' 9am, not the post's
    await practice_at(app, clock, SYDNEY_9AM - timedelta(minutes=1))
    assert posts_in(app.sim) == []

    await practice_at(app, clock, SYDNEY_9AM)
    await practice_at(app, clock, SYDNEY_9AM)  # a second run at the same instant
    await practice_at(app, clock, SYDNEY_9AM + timedelta(minutes=1))
    [post] = posts_in(app.sim)
    text = blocks_text(post.body["blocks"])
    assert post.body["text"].startswith("This week's practice for the group: ")
    assert "Talk it over in this thread" in text
    assert "aren't kept as reflections" in text
    [row] = await post_rows(app)
    assert row.status == "posted" and row.week.isoformat() == "2026-11-25"
    assert row.message_ts == app.sim.messages(CHANNEL)[-1]["ts"]

    # Next week: the next practice idea, in turn.
    await practice_at(app, clock, SYDNEY_9AM + timedelta(days=7))
    first, second = await post_rows(app)
    assert len(posts_in(app.sim)) == 2 and first.item_id != second.item_id
    assert second.week.isoformat() == "2026-12-02"
    # Nothing about anyone: no nudge, delivery or reflection came of it.
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Reflection.id)) is None
        assert await session.scalar(select(Delivery.id)) is None


async def test_two_schedulers_at_the_same_instant_post_once(
    app: RunningApp, clock: ManualClock, settings: Settings
) -> None:
    await arrange_cohort(app)
    other = build_context(settings, clock=clock)  # a second replica on the same database
    try:
        app.sim.clear()
        clock.set(SYDNEY_9AM)
        await asyncio.gather(post_cohort_practice(app.ctx), post_cohort_practice(other))
        await asyncio.gather(post_cohort_practice(other), post_cohort_practice(app.ctx))
    finally:
        await other.close()
    assert len(posts_in(app.sim)) == 1
    assert [row.status for row in await post_rows(app)] == ["posted"]


async def test_no_practice_is_posted_when_it_is_off_or_the_cohort_has_ended(
    app: RunningApp, clock: ManualClock
) -> None:
    await arrange_cohort(app, practice=False)
    await practice_at(app, clock, SYDNEY_9AM)
    await practice_at(app, clock, AUCKLAND_9AM + timedelta(days=7))

    await say_in_channel(app, "cohort practice on")
    reply = await say_in_channel(app, "cohort practice off")
    assert "Practice posts are off for this channel" in reply
    await practice_at(app, clock, AUCKLAND_9AM + timedelta(days=14))

    await say_in_channel(app, "cohort practice on")
    assert "has ended" in await say_in_channel(app, "cohort off")
    await practice_at(app, clock, AUCKLAND_9AM + timedelta(days=21))
    assert posts_in(app.sim) == [] and await post_rows(app) == []


async def test_a_post_is_not_made_up_after_the_scheduler_was_down(
    app: RunningApp, clock: ManualClock
) -> None:
    await arrange_cohort(app)
    await practice_at(app, clock, SYDNEY_9AM + timedelta(hours=6, minutes=1))
    assert posts_in(app.sim) == [] and await post_rows(app) == []
    await practice_at(app, clock, SYDNEY_9AM + timedelta(hours=6))  # still within the day
    assert len(posts_in(app.sim)) == 1


async def test_practice_turned_on_after_this_weeks_time_starts_next_week(
    app: RunningApp, clock: ManualClock
) -> None:
    clock.set(SYDNEY_9AM + timedelta(hours=1))
    await arrange_cohort(app)
    await practice_at(app, clock, SYDNEY_9AM + timedelta(hours=2))
    assert posts_in(app.sim) == []
    await practice_at(app, clock, SYDNEY_9AM + timedelta(days=7))
    assert len(posts_in(app.sim)) == 1


async def test_replies_in_the_channel_are_never_stored(app: RunningApp, clock: ManualClock) -> None:
    await arrange_cohort(app)
    await practice_at(app, clock, SYDNEY_9AM)
    post_ts = app.sim.messages(CHANNEL)[-1]["ts"]
    app.sim.clear()

    for ts, thread in ((ts_at(SYDNEY_9AM, 5), post_ts), (ts_at(SYDNEY_9AM, 6), None)):
        event = {
            "type": "message",
            "channel": CHANNEL,
            "channel_type": "channel",
            "user": "UAROHA",
            "text": "We tried this at handover; it helped.",
            "ts": ts,
            "event_ts": ts,
        }
        await say(app, {**event, "thread_ts": thread} if thread else event)

    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Reflection.id)) is None
    assert app.sim.calls == []  # no ✅, no reply: the app stays out of the discussion


async def test_only_leads_and_admins_turn_practice_on_and_bad_words_change_nothing(
    app: RunningApp, clock: ManualClock
) -> None:
    await arrange_cohort(app, practice=False)
    refused = await say_in_channel(app, "cohort practice on", user_id="UKIRI")
    assert "started and changed by workspace admins and the cohort's leads" in refused
    for words in ("cohort practice", "cohort practice maybe", "cohort practice on now"):
        assert "`/leading-tip cohort practice on` (or `off`)" in await say_in_channel(app, words)
    elsewhere = await command_message(app, "cohort practice on", "ULEAD", channel_id="C0OTHER")
    assert "isn't a cohort" in message_text(elsewhere)
    head = await say_in_channel(app, "cohort practice on", user_id="UHEAD")  # ADMIN_USER_IDS
    assert "Practice posts are on" in head and "(Pacific/Auckland time)" in head  # no Slack zone
    await practice_at(app, clock, AUCKLAND_9AM)
    assert len(posts_in(app.sim)) == 1


async def test_a_refused_post_is_recorded_and_not_tried_again(
    app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    await arrange_cohort(app)
    app.sim.fail("chat.postMessage", error="not_in_channel", channel=CHANNEL)
    await practice_at(app, clock, SYDNEY_9AM)
    await practice_at(app, clock, SYDNEY_9AM + timedelta(minutes=1))
    [row] = await post_rows(app)
    assert row.status == "failed" and row.error == "not_in_channel"
    assert posts_in(app.sim) == [] and len(app.sim.calls_to("chat.postMessage")) == 1
    assert "practice post in T0001/C0PRACTICE failed: not_in_channel" in logs.text


async def test_a_dropped_post_is_never_sent_twice(
    app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    await arrange_cohort(app)
    app.sim.clear()
    app.sim.fail("chat.postMessage", drop=True, channel=CHANNEL)
    await practice_at(app, clock, SYDNEY_9AM)
    await practice_at(app, clock, SYDNEY_9AM + timedelta(minutes=1))
    [row] = await post_rows(app)
    assert row.status == "failed" and row.error == "connection_error"
    assert len(app.sim.calls_to("chat.postMessage")) == 1  # no retry: it may have posted
    assert "connection problem" in logs.text


async def test_a_failing_pass_is_logged_and_the_scheduler_carries_on(
    settings: Settings, clock: ManualClock, tmp_path, logs: pytest.LogCaptureFixture
) -> None:
    # A database with no tables: the pass cannot even read the cohorts.
    broken = build_context(
        settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/empty.db"}),
        clock=clock,
    )
    try:
        await post_cohort_practice(broken)
    finally:
        await broken.close()
    assert "cohort practice posts failed" in logs.text


async def test_the_scheduler_runs_the_practice_posts_every_minute(app: RunningApp) -> None:
    job = build_scheduler(app.ctx).get_job("cohort_practice")
    assert job is not None and job.trigger.interval == timedelta(minutes=1)
    assert job.max_instances == 1 and job.misfire_grace_time is None


async def test_the_practice_post_is_in_the_preview(app: RunningApp) -> None:
    app.sim.add_user("T0001", "UHEAD")
    await command_message(app, "preview", "UHEAD")
    await app.settle()
    texts = [call.body["text"] for call in app.sim.calls_to("chat.postMessage")]
    assert any(t.startswith("Preview (the practice posted in a cohort's channel") for t in texts)
