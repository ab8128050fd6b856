"""Nothing is lost silently: what a person sends is stored, or they are told it was not.

Every fault here is real: a trigger that raises, a renamed table, a lock held by another
connection, PostgreSQL's pg_terminate_backend on the app's own connection mid-transaction.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import blocks
from bot.app_context import build_context
from bot.clock import ManualClock
from bot.config import Settings
from bot.models import Delivery, Schedule
from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator, event_body, view_submission_body
from scheduler.runner import build_scheduler, forget_handled_commands
from tests.conftest import RunningApp
from tests.faults import TableLock, fail_first_insert, refuse_inserts, rename_table
from tests.helpers import (
    CHANNEL,
    DUE,
    blocks_text,
    dm,
    install_token,
    nudges,
    reflections,
    say,
    subscribe,
    ts_at,
)
from tests.seeding import seed_due_members

SECRET = "Private: I told the charge nurse I was struggling with the roster"
RETRIED = "transient database error"


@pytest.fixture
def settings(settings: Settings, database_url: str) -> Settings:
    """As in conftest, but SQLite gives up waiting for another writer's lock after 0.1 s (the
    `timeout` URL option) instead of 30 s, so a held lock fails the app's statement in time."""
    url = f"{database_url}?timeout=0.1" if database_url.startswith("sqlite") else database_url
    return settings.model_copy(update={"database_url": url})


def retries_logged(caplog: pytest.LogCaptureFixture) -> int:
    return sum(RETRIED in record.getMessage() for record in caplog.records)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged, as it would be written, tracebacks included."""
    return caplog.text


def not_saved_dms(app: RunningApp) -> list[dict]:
    return [
        call.body
        for call in app.sim.calls_to("chat.postMessage")
        if "couldn't save that reflection" in call.body.get("text", "")
    ]


# --- a DM reply while the database fails -------------------------------------------------


async def test_reply_during_a_transient_fault_mid_transaction_is_tried_again_saved_and_ticked(
    app: RunningApp, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL: the app's INSERT waits for a lock and its connection is terminated while it
    waits (pool_pre_ping cannot hide that). SQLite: its wait for the lock runs out."""
    await say(app, dm("Before the fault.", ts_at(DUE - timedelta(hours=1))))  # a warm pool
    ts = ts_at(DUE)
    lock = TableLock(database_url, "reflections")
    try:
        assert (await app.slack.post_event(dm("Kept despite the fault.", ts))).status == 200
        await lock.break_waiters_until(lambda: retries_logged(caplog) > 0)
    finally:
        lock.release()
    await app.settle()
    assert [r.text for r in await reflections(app)] == [
        "Before the fault.",
        "Kept despite the fault.",
    ]
    reactions = app.sim.calls_to("reactions.add")
    assert [(r.body["timestamp"], r.body["name"]) for r in reactions][1:] == [
        (ts, blocks.SAVED_REACTION)
    ]
    assert not_saved_dms(app) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("sqlstate", ["40001", "40P01"], ids=["serialization", "deadlock"])
async def test_reply_after_a_serialisation_failure_or_deadlock_is_tried_again_and_saved(
    app: RunningApp, database_url: str, sqlstate: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL reports these with their SQLSTATE; a trigger raises one on the first try."""
    with fail_first_insert(database_url, "reflections", sqlstate):
        await say(app, dm("Second time lucky.", ts_at(DUE)))
    assert [r.text for r in await reflections(app)] == ["Second time lucky."]
    assert len(app.sim.calls_to("reactions.add")) == 1
    assert retries_logged(caplog) == 1
    assert f"sqlstate {sqlstate}" in logged(caplog)


async def test_reply_the_database_refuses_gets_a_not_saved_dm_and_its_text_is_never_logged(
    app: RunningApp, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    thread = ts_at(DUE - timedelta(hours=1))
    with refuse_inserts(database_url, "reflections"):
        await say(app, dm(SECRET, ts_at(DUE), thread_ts=thread))
    assert await reflections(app) == []
    assert app.sim.calls_to("reactions.add") == []
    [told] = not_saved_dms(app)
    assert (told["channel"], told["thread_ts"]) == (CHANNEL, thread)
    assert "send it again in a minute" in told["text"]
    assert retries_logged(caplog) == 0  # a refusal is not worth trying again
    assert "saving a reflection failed for T0001/U0001" in logged(caplog)
    assert "refused by the test" not in logged(caplog)  # a database message may quote the row
    assert "Private" not in logged(caplog) and "xoxb-" not in logged(caplog)


async def test_reply_when_the_fault_outlasts_the_retries_gets_a_not_saved_dm(
    app: RunningApp, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await say(app, dm("Before the fault.", ts_at(DUE - timedelta(hours=1))))  # a warm pool
    lock = TableLock(database_url, "reflections")
    try:
        assert (await app.slack.post_event(dm(SECRET, ts_at(DUE)))).status == 200
        await lock.break_waiters_until(lambda: bool(not_saved_dms(app)))
    finally:
        lock.release()
    await app.settle()
    assert [r.text for r in await reflections(app)] == ["Before the fault."]
    assert len(not_saved_dms(app)) == 1 and len(app.sim.calls_to("reactions.add")) == 1
    assert retries_logged(caplog) >= 3
    assert "Private" not in logged(caplog)


async def test_reply_is_answered_with_the_last_known_token_when_even_the_token_lookup_fails(
    multi_app: RunningApp, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = multi_app
    assert (await app.slack.install("T0001")).status == 200
    await say(app, dm("Before the fault.", ts_at(DUE - timedelta(hours=1))))
    caplog.set_level(logging.DEBUG)
    with rename_table(database_url, "workspaces"):
        await say(app, dm(SECRET, ts_at(DUE)))
    [told] = not_saved_dms(app)
    assert told["channel"] == CHANNEL
    assert "looking up the bot token for T0001 failed" in logged(caplog)
    assert "Private" not in logged(caplog)
    assert [r.text for r in await reflections(app)] == ["Before the fault."]


# --- the Home tab's day-and-time modal ---------------------------------------------------


async def test_home_schedule_modal_saved_during_a_database_fault_shows_its_inline_error(
    app: RunningApp, database_url: str
) -> None:
    values = {
        "day": {"day_select": {"type": "static_select", "selected_option": {"value": "1"}}},
        "time": {"time_picker": {"type": "timepicker", "selected_time": "08:30"}},
    }
    body = view_submission_body("schedule_modal", values, team_id="T0001", user_id="U0001")
    with refuse_inserts(database_url, "schedules"):
        reply = await app.slack.post(body)
        await app.settle()
    assert reply.status == 200
    assert reply.json() == {
        "response_action": "errors",
        "errors": {"time": "That didn't save. Please try again in a minute."},
    }
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Schedule)) is None


# --- command words in the DM, delivered again by Slack -----------------------------------


@pytest.mark.parametrize("word", ["help", "stop"])
async def test_a_dm_command_slack_delivers_again_is_answered_once(
    app: RunningApp, word: str
) -> None:
    await subscribe(app)
    event = dm(word, ts_at(DUE))
    await say(app, event)
    await say(app, event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    again = await app.slack.post(  # the same message under another event id, to any replica
        event_body(event, event_id="EvAnotherDelivery"),
        content_type="application/json",
        headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"},
    )
    assert again.status == 200
    await app.settle()
    [reply] = app.sim.calls_to("chat.postMessage")
    assert {"help": "/leading-tip tip", "stop": "Stopped"}[word] in blocks_text(
        reply.body["blocks"]
    )
    await say(app, dm(word, ts_at(DUE, 1)))  # typed again: a new message, answered again
    assert len(app.sim.calls_to("chat.postMessage")) == 2


async def test_a_dm_command_is_still_answered_when_it_cannot_be_noted(
    app: RunningApp, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with rename_table(database_url, "handled_commands"):
        await say(app, dm("help", ts_at(DUE)))
    [reply] = app.sim.calls_to("chat.postMessage")
    assert "/leading-tip tip" in blocks_text(reply.body["blocks"])
    assert "noting a DM command from T0001 failed" in logged(caplog)


async def test_handled_command_keys_are_forgotten_daily_after_three_days(
    app: RunningApp, clock: ManualClock
) -> None:
    job = build_scheduler(app.ctx).get_job("handled_commands")
    assert job is not None and job.trigger.interval == timedelta(days=1)
    clock.set(DUE - timedelta(days=4))
    await say(app, dm("help", ts_at(DUE, 1)))
    clock.set(DUE - timedelta(days=1))
    await say(app, dm("help", ts_at(DUE, 2)))
    clock.set(DUE)
    await forget_handled_commands(app.ctx)
    app.sim.clear()
    for micro in (1, 2):  # Slack long done retrying: only the forgotten one could repeat
        await say(app, dm("help", ts_at(DUE, micro)))
    assert len(app.sim.calls_to("chat.postMessage")) == 1


async def test_forgetting_handled_commands_fails_quietly_and_tries_again_tomorrow(
    app: RunningApp, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with rename_table(database_url, "handled_commands"):
        await forget_handled_commands(app.ctx)
    assert "forgetting handled DM commands failed" in logged(caplog)


# --- nudges with no token to send them ---------------------------------------------------


async def test_a_workspace_without_a_token_keeps_its_nudge_until_a_token_comes(
    multi_settings: Settings, database_url: str, sim: SlackSimulator, clock: ManualClock
) -> None:
    [user] = seed_due_members(database_url, count=1, due=DUE)
    sim.add_user("T0001", user)
    ctx = build_context(multi_settings, clock=clock)
    try:
        clock.set(DUE)
        summary = await ctx.dispatcher.run_pass()
        assert (summary.sent, summary.failed) == (0, 0)
        async with ctx.sessions() as session:
            kept = list(await session.scalars(select(Delivery.status)))
        assert kept == ["retry"]  # waiting for a token, not burnt (DUE + 12 h at most)
        await install_token(ctx, "T0001", DEFAULT_TOKEN)
        clock.set(DUE + timedelta(minutes=5))
        assert (await ctx.dispatcher.run_pass()).sent == 1
    finally:
        await ctx.close()
    [sent] = sim.calls_to("chat.postMessage")
    assert sent.body["channel"] == f"D{user}"


async def test_a_retry_whose_workspace_lost_its_token_waits_instead_of_failing(
    multi_settings: Settings, database_url: str, sim: SlackSimulator, clock: ManualClock
) -> None:
    [user] = seed_due_members(database_url, count=1, due=DUE)
    sim.add_user("T0001", user)
    ctx = build_context(multi_settings, clock=clock)

    async def token(value: str | None) -> None:
        if value is not None:
            await install_token(ctx, "T0001", value)
            return
        assert ctx.installations.store is not None
        await ctx.installations.store.async_delete_all(enterprise_id=None, team_id="T0001")

    async def delivery() -> tuple[str, int, str | None]:
        async with ctx.sessions() as session:
            row = await session.scalar(select(Delivery))
        assert row is not None
        return row.status, row.attempts, row.error

    try:
        await token(DEFAULT_TOKEN)
        sim.fail("chat.postMessage", status=500)
        clock.set(DUE)
        assert (await ctx.dispatcher.run_pass()).failed == 1
        assert await delivery() == ("retry", 1, "internal_error")
        await token(None)
        clock.set(DUE + timedelta(minutes=1))
        summary = await ctx.dispatcher.run_pass()
        assert (summary.sent, summary.skipped, summary.failed) == (0, 1, 0)
        assert await delivery() == ("retry", 1, "no_token")
        await token(DEFAULT_TOKEN)
        clock.set(DUE + timedelta(minutes=2))
        assert (await ctx.dispatcher.run_pass()).sent == 1
        assert (await delivery())[0] == "sent"
    finally:
        await ctx.close()
    assert len([c for c in sim.calls_to("chat.postMessage") if c.failed is None]) == 1


async def test_a_pass_whose_claim_loses_its_connection_claims_again_and_sends_once(
    app: RunningApp, clock: ManualClock, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The claim waits for a lock on `schedules`; PostgreSQL: its connection is ended
    (pg_terminate_backend), SQLite: its wait runs out. The claim is made again, the pass goes
    on, and the nudge goes once."""
    await subscribe(app)
    clock.set(DUE)
    lock = TableLock(database_url, "schedules")
    try:
        running_pass = asyncio.ensure_future(app.ctx.dispatcher.run_pass())
        await lock.break_waiters_until(lambda: "claiming due nudges: transient" in caplog.text)
    finally:
        lock.release()
    summary = await running_pass
    assert (summary.sent, summary.failed) == (1, 0)
    assert len(nudges(app.sim)) == 1
    assert SECRET not in caplog.text
