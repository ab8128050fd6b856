"""A dispatch pass every minute with APScheduler, in `serve` or alone (`leading-bot scheduler`),
and each minute too the cohorts' weekly practice posts that are due.

The in-memory job store is enough: what is due lives in the database, so a restart loses
nothing, and any number of replicas may run passes against one PostgreSQL.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.app_context import AppContext
from bot.services.dispatch import LEASE
from bot.services.handled import forget_handled
from bot.services.uninstall import purge_uninstalled

logger = logging.getLogger(__name__)

# Seconds a stopping process gives the sends under way: with the rest of shutting down, within
# the 10 seconds Docker waits before SIGKILL.
SEND_WAIT = 8.0
RECORD_WAIT = 1.0  # seconds more, for an abandoned pass to record what it did send


async def dispatch_once(ctx: AppContext) -> None:
    started = time.monotonic()
    try:
        # Tracked like a listener, so shutting down waits for a pass under way.
        summary = await ctx.in_flight.track(ctx.dispatcher.run_pass)()
        metrics.INSTALLATIONS.set(await ctx.installations.active_count())
    except Exception:
        logger.exception("dispatch pass failed; the next pass will pick up what is due")
        return
    finally:
        metrics.PASS_SECONDS.observe(time.monotonic() - started)
    if summary.sent or summary.skipped or summary.failed:
        logger.info("dispatch pass: %s", summary.line())


def _sending_once(
    ctx: AppContext,
) -> Callable[[str, str | None], Awaitable[AsyncWebClient | None]]:
    """A workspace's client with no retry after a dropped connection: the message may have
    gone, and twice is worse than not at all."""

    async def client_for(team_id: str, enterprise_id: str | None) -> AsyncWebClient | None:
        token = await ctx.installations.token_for(team_id, enterprise_id)
        return ctx.slack.for_token(token, retry_connection_errors=False) if token else None

    return client_for


async def post_cohort_practice(ctx: AppContext) -> None:
    """Every minute: each cohort's practice post that is due, posted once however many
    schedulers run (the database's unique key decides; see bot.services.cohort_practice)."""

    try:
        summary = await ctx.in_flight.track(ctx.cohort_practice.run_pass)(_sending_once(ctx))
    except Exception:
        logger.exception("cohort practice posts failed; the next minute posts what is still due")
        return
    if summary.posted or summary.failed:
        logger.info("cohort practice posts: %d posted, %d failed", summary.posted, summary.failed)


async def send_season_summaries(ctx: AppContext) -> None:
    """Hourly: each person's season summary that is due, sent once however many schedulers
    run (the database's unique key decides; see bot.services.season_summary)."""

    try:
        summary = await ctx.in_flight.track(ctx.season_summaries.run_pass)(_sending_once(ctx))
    except Exception:
        logger.exception("season summaries failed; the next hour sends what is still due")
        return
    if summary.sent or summary.failed:
        logger.info("season summaries: %d sent, %d failed", summary.sent, summary.failed)


def build_scheduler(ctx: AppContext) -> AsyncIOScheduler:
    """A dispatch pass every minute and the daily jobs, each first run at start-up (nothing
    waits a minute or a day), one at a time, and a late run still runs (misfire_grace_time
    None): the jobs themselves skip what is stale."""
    scheduler = AsyncIOScheduler(timezone="UTC")

    def every(interval: IntervalTrigger, job: Any, job_id: str, *args: object) -> None:
        scheduler.add_job(
            job,
            interval,
            args=[ctx, *args],
            id=job_id,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )

    every(IntervalTrigger(minutes=1), dispatch_once, "dispatch")
    every(IntervalTrigger(minutes=1), post_cohort_practice, "cohort_practice")
    every(IntervalTrigger(hours=1), send_season_summaries, "season_summaries")
    every(IntervalTrigger(days=1), forget_handled_commands, "handled_commands")
    if ctx.installations.multi_workspace:
        every(IntervalTrigger(days=1), purge_uninstalled_workspaces, "uninstall_purge")
    days = ctx.settings.reflection_retention_days
    if days:
        every(IntervalTrigger(days=1), apply_retention, "retention", days)
    return scheduler


async def apply_retention(ctx: AppContext, days: int) -> None:
    """REFLECTION_RETENTION_DAYS: delete reflections older than that, once a day."""
    try:
        deleted = await ctx.reflections.delete_older_than(days)
    except Exception:
        logger.exception("retention job failed; it runs again tomorrow")
        return
    logger.info("retention: deleted %d reflections older than %d days", deleted, days)


async def purge_uninstalled_workspaces(ctx: AppContext) -> None:
    """Daily (multi-workspace mode): every row of a workspace uninstalled UNINSTALL_PURGE_DAYS
    ago and not reinstalled since is deleted."""
    days = ctx.settings.uninstall_purge_days
    try:
        purged = await purge_uninstalled(ctx.sessions, ctx.clock(), days)
    except Exception:
        logger.exception("purging uninstalled workspaces failed; it runs again tomorrow")
        return
    if purged:
        logger.info(
            "purged %d workspaces uninstalled %d or more days ago: %s",
            len(purged),
            days,
            ", ".join(purged),
        )


async def forget_handled_commands(ctx: AppContext) -> None:
    """Daily: the keys that stop Slack's retries of a DM command being answered twice."""
    try:
        deleted = await forget_handled(ctx.sessions, ctx.clock())
    except Exception:
        logger.exception("forgetting handled DM commands failed; it runs again tomorrow")
        return
    logger.info("forgot %d handled DM commands", deleted)


def start(ctx: AppContext) -> AsyncIOScheduler:
    """Start in the running loop."""
    scheduler = build_scheduler(ctx)
    scheduler.start()
    return scheduler


async def stop_after_pass(scheduler: AsyncIOScheduler, ctx: AppContext) -> None:
    """Start no new pass; the one under way claims nothing more and has SEND_WAIT seconds to
    finish the sends it has claimed. Those still under way then are abandoned (the pass records what
    it did send and returns), and a pass LEASE later sends each at most once. Then stop."""
    scheduler.pause()
    ctx.dispatcher.stop()
    logger.info(
        "stopping: no new dispatch pass starts; the one under way, if any, claims nothing more "
        "and has %g seconds to finish its sends",
        SEND_WAIT,
    )
    if not await ctx.in_flight.wait_idle(SEND_WAIT):
        left = ctx.dispatcher.abandon()
        await ctx.in_flight.wait_idle(RECORD_WAIT)
        if left:
            logger.warning(
                "stopping: %d nudges were still being sent after %g seconds and are left "
                "unconfirmed; a pass %d minutes from now looks for each in its DM and sends it "
                "only if it is not there",
                left,
                SEND_WAIT,
                LEASE // timedelta(minutes=1),
            )
    scheduler.shutdown(wait=False)


async def run_forever(ctx: AppContext) -> None:
    """Until SIGTERM or SIGINT: then no new pass starts and the pass under way finishes its
    sends (bounded: `stop_after_pass`), so the process exits 0 rather than dying mid-send."""
    scheduler = start(ctx)
    logger.info("nudge scheduler running: a dispatch pass every minute")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await stop_after_pass(scheduler, ctx)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
