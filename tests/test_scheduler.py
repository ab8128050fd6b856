"""The APScheduler runner: a pass every minute, one at a time, late runs never dropped."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from bot.app_context import AppContext
from bot.clock import ManualClock
from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator
from scheduler.runner import apply_retention, build_scheduler
from tests.conftest import ENCRYPTION_KEY
from tests.seeding import seed_due_members


async def test_dispatch_job_runs_every_minute_one_at_a_time_and_keeps_late_runs(
    ctx: AppContext,
) -> None:
    job = build_scheduler(ctx).get_job("dispatch")
    assert job is not None
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(minutes=1)
    assert job.max_instances == 1
    assert job.coalesce is True
    assert job.misfire_grace_time is None


async def test_no_retention_job_unless_reflection_retention_days_is_set(ctx: AppContext) -> None:
    assert build_scheduler(ctx).get_job("retention") is None


async def test_retention_job_runs_daily_and_deletes_old_reflections(
    ctx: AppContext, clock: ManualClock
) -> None:
    ctx.settings = ctx.settings.model_copy(update={"reflection_retention_days": 30})
    job = build_scheduler(ctx).get_job("retention")
    assert job is not None and job.trigger.interval == timedelta(days=1)
    for age_days, text in ((45, "old"), (3, "recent")):
        clock.set(datetime(2026, 11, 23, tzinfo=UTC) - timedelta(days=age_days))
        await ctx.reflections.capture_modal("T0001", "U0001", None, text)
    clock.set(datetime(2026, 11, 23, tzinfo=UTC))
    await apply_retention(ctx, 30)
    entries, _ = await ctx.reflections.page("T0001", "U0001")
    assert [entry.text for entry in entries] == ["recent"]


async def test_scheduler_process_sends_what_is_due_and_nothing_twice(
    database_url: str, sim: SlackSimulator
) -> None:
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    users = seed_due_members(database_url, count=3, due=due)
    for user in users:
        sim.add_user("T0001", user)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_API_URL": sim.base_url,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "scheduler",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await sim.wait_for("chat.postMessage", count=3, timeout=30)
    finally:
        process.terminate()
        await process.wait()
    # Each first DM goes to the person's id; Slack opens the DM.
    people = sorted(call.body["channel"] for call in sim.calls_to("chat.postMessage"))
    assert people == sorted(users)
