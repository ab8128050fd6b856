"""The three ways to run the app, each as real processes against the simulator: (a) one
`leading-bot serve` on SQLite, scheduler inside; (b) `serve --no-scheduler` web replicas plus a
`leading-bot scheduler` on PostgreSQL; (c) Socket Mode, no public URL."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import create_engine, select, update

from bot.blocks import ANOTHER_ACTION as ANOTHER
from bot.blocks import SAVED_REACTION as SAVED
from bot.crypto import Keyring
from bot.db import sync_url
from bot.models import Delivery, Reflection, Schedule
from bot.services.dispatch import LEASE
from devkit.driver import SocketModeDriver
from devkit.slack_sim import DEFAULT_APP_TOKEN, SlackSimulator, signed_headers, slash_command_body
from scheduler.runner import SEND_WAIT
from tests.conftest import ENCRYPTION_KEY
from tests.helpers import (
    blocks_text,
    dm,
    dms_per_channel,
    elements,
    exited,
    free_port,
    nudges,
    process_env,
    read_stderr_until,
    run_dispatch,
    start_cli,
    start_serve,
    stop,
    ts_at,
    wait_until_healthy,
)
from tests.seeding import seed_due_members

SECRET = "deploy-secret"


async def signed_command(base: str, sim: SlackSimulator, text: str) -> dict:
    """`/leading-tip <text>` over HTTP, signed; the ack's JSON (empty if answered later)."""
    body = slash_command_body(text, response_url=sim.response_url("deploy"))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{base}/slack/events", data=body, headers=signed_headers(SECRET, body)
        ) as response,
    ):
        assert response.status == 200
        return await response.json() if await response.read() else {}


async def page(url: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        return await response.text()


async def healthy_and_ready(base: str) -> None:
    """Health checks answer on PORT once the process is up, and it says it is ready."""
    async with aiohttp.ClientSession() as http:
        await wait_until_healthy(http, base)
        async with http.get(f"{base}/readyz") as response:
            assert response.status == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_one_process_on_sqlite_serves_slack_and_sends_what_is_due_itself(
    database_url: str, sim: SlackSimulator
) -> None:
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    users = seed_due_members(database_url, count=2, due=due)
    for user in users:
        sim.add_user("T0001", user)
    port = free_port()
    env = process_env(database_url, sim, PORT=str(port), SLACK_SIGNING_SECRET=SECRET)
    process = await start_serve(env, scheduler=True)
    base = f"http://127.0.0.1:{port}"
    try:
        await healthy_and_ready(base)
        reply = await signed_command(base, sim, "blocker")
        assert "What can hold you back" in blocks_text(reply["blocks"])
        # The scheduler inside this one process runs its first pass at start-up.
        await sim.wait_for("chat.postMessage", count=2, timeout=20)
    finally:
        stderr = await stop(process)
    # Each first DM goes to the person's id; Slack opens the DM.
    assert sorted(nudge["channel"] for nudge in nudges(sim)) == sorted(users)
    assert "Traceback" not in stderr


async def test_web_replica_and_a_separate_scheduler_share_postgresql(
    postgres_url: str, sim: SlackSimulator
) -> None:
    port = free_port()
    env = process_env(postgres_url, sim, PORT=str(port), SLACK_SIGNING_SECRET=SECRET)
    web = await start_serve(env)  # --no-scheduler: a web replica only
    base = f"http://127.0.0.1:{port}"
    try:
        await healthy_and_ready(base)
        assert await signed_command(base, sim, "weekly") == {}  # answered after the ack
        [answer] = await sim.wait_for("response_url")
        assert answer.body["response_type"] == "ephemeral"
        # A week passes: the nudge the web replica planned is now due.
        engine = create_engine(sync_url(postgres_url))
        with engine.begin() as connection:
            planned = connection.scalar(select(Schedule.next_due_at))
            assert planned is not None and planned > datetime.now(UTC)
            connection.execute(
                update(Schedule).values(next_due_at=datetime.now(UTC) - timedelta(minutes=1))
            )
        engine.dispose()
        assert nudges(sim) == []
        scheduler = await start_cli(env, "scheduler")
        try:
            await sim.wait_for("chat.postMessage", timeout=20)
        finally:
            scheduler_log = await stop(scheduler)
    finally:
        web_log = await stop(web)
    [nudge] = nudges(sim)
    assert nudge["channel"] == "U0001"
    assert "Traceback" not in scheduler_log + web_log, scheduler_log + web_log


async def test_socket_mode_answers_a_command_saves_a_dm_reflection_and_takes_a_button(
    tmp_path: Path, sim: SlackSimulator
) -> None:
    sim.add_app_token()
    port = free_port()
    database_url = f"sqlite:///{tmp_path}/socket.db"
    env = process_env(
        database_url, sim, PORT=str(port), SLACK_APP_TOKEN=DEFAULT_APP_TOKEN, LOG_LEVEL="INFO"
    )
    process = await start_serve(env, scheduler=True)
    slack = SocketModeDriver(sim)
    try:
        await healthy_and_ready(f"http://127.0.0.1:{port}")  # still on PORT in Socket Mode

        # A slash command: the answer travels back in the ack.
        ack = await slack.slash("blocker")
        assert ack.payload is not None and ack.payload["response_type"] == "ephemeral"
        assert "What can hold you back" in blocks_text(ack.payload["blocks"])

        # Slack asks for a fresh connection now and then; the app opens one and carries on.
        await sim.refresh_sockets()

        # "Another" on that tip: acked at once, the next tip replaces it by its response_url.
        [another] = [e for e in elements(ack.payload["blocks"]) if e["action_id"] == ANOTHER]
        assert (await slack.click(another["action_id"], another["value"])).payload is None
        [replaced] = await sim.wait_for("response_url")
        assert replaced.body["replace_original"] is True
        assert blocks_text(replaced.body["blocks"]) != blocks_text(ack.payload["blocks"])

        # A body the app cannot read is acked (Slack would only resend it) and refused.
        broken = {"type": "event_callback", "team_id": "T0001", "event": "not an object"}
        assert (await slack.send("events_api", broken)).payload is None

        # A reflection typed in the DM: stored, and ✅ on it through the Web API.
        ts = ts_at(datetime.now(UTC))
        assert (await slack.event(dm("Asked the team first today.", ts))).payload is None
        [reaction] = await sim.wait_for("reactions.add")
        assert reaction.body == {"channel": "DU0001", "timestamp": ts, "name": SAVED}
        metrics = await page(f"http://127.0.0.1:{port}/metrics")
    finally:
        stderr = await stop(process)
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        [saved] = connection.execute(select(Reflection)).all()
    engine.dispose()
    assert (saved.team_id, saved.user_id) == ("T0001", "U0001")
    assert Keyring([ENCRYPTION_KEY]).decrypt(saved.text) == "Asked the team first today."
    # To check the token at start-up, to connect, and to connect again when asked.
    opened = sim.calls_to("apps.connections.open")
    assert [call.headers["Authorization"] for call in opened] == [f"Bearer {DEFAULT_APP_TOKEN}"] * 3
    assert sim.calls_to("chat.postMessage") == []
    assert "Traceback" not in stderr and "ERROR" not in stderr
    # Each request gets its line and its count, as over HTTP; the broken one a warning.
    for kind in ("slash_command", f"action:{ANOTHER}", "event:message"):
        assert f"{kind} answered 200 in" in stderr
    assert "refused a Socket Mode events_api envelope: `event` is not an object" in stderr
    assert 'leading_requests_total{outcome="ok",surface="slash:blocker"} 1.0' in metrics
    assert 'leading_requests_total{outcome="refused",surface="unknown"} 1.0' in metrics
    assert "leading_ack_seconds_count 3.0" in metrics
    # What people write and the tokens stay out of the log (the socket client logs on Bolt's
    # logger, held at INFO, where it quotes no messages).
    assert "Asked the team" not in stderr and "xapp-" not in stderr and "xoxb-" not in stderr


@pytest.mark.parametrize("command", ["serve", "scheduler"])
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sigterm_during_a_pass_lets_the_send_finish_and_exits_0(
    database_url: str, sim: SlackSimulator, command: str
) -> None:
    [user] = seed_due_members(database_url, count=1, due=datetime.now(UTC) - timedelta(minutes=5))
    sim.add_user("T0001", user)
    answer = sim.hold("chat.postMessage")  # the nudge is posted; Slack's answer is on its way
    env = process_env(
        database_url, sim, PORT=str(free_port()), SLACK_SIGNING_SECRET=SECRET, LOG_LEVEL="INFO"
    )
    process = await start_cli(env, command)
    await sim.wait_for("chat.postMessage", timeout=20)
    process.terminate()
    await read_stderr_until(process, "no new dispatch pass starts")
    answer.set()
    stderr = await exited(process)
    assert "Traceback" not in stderr and "CancelledError" not in stderr
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        [(status, message_ts)] = connection.execute(select(Delivery.status, Delivery.message_ts))
    engine.dispose()
    assert status == "sent" and message_ts


FAN_OUT = 300  # members due at once: a pass takes seconds against a simulator with latency


def seed_fan_out(database_url: str, sim: SlackSimulator) -> list[str]:
    users = seed_due_members(
        database_url, count=FAN_OUT, due=datetime.now(UTC) - timedelta(minutes=5)
    )
    for user in users:
        sim.add_user("T0001", user)
    sim.latency = 0.05  # a real network's pace, so SIGTERM lands mid-fan-out
    return users


def delivery_statuses(database_url: str) -> Counter[str]:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        statuses = Counter(status for (status,) in connection.execute(select(Delivery.status)))
    engine.dispose()
    return statuses


def one_dm_each(sim: SlackSimulator, users: list[str]) -> bool:
    counts = dms_per_channel(sim, [f"D{user}" for user in users])
    return len(counts) == len(users) and set(counts.values()) == {1}


ONE_PROCESS_AND_WORKER = pytest.mark.parametrize(
    ("database_url", "command"),
    [("sqlite", "serve"), ("postgresql", "scheduler")],
    indirect=["database_url"],
)


@ONE_PROCESS_AND_WORKER
async def test_sigterm_mid_fan_out_sends_what_was_claimed_and_a_restart_sends_the_rest(
    database_url: str, sim: SlackSimulator, command: str
) -> None:
    users = seed_fan_out(database_url, sim)
    env = process_env(
        database_url, sim, PORT=str(free_port()), SLACK_SIGNING_SECRET=SECRET, LOG_LEVEL="INFO"
    )
    process = await start_cli(env, command)
    await sim.wait_for("chat.postMessage", count=40, timeout=20)
    process.terminate()
    stopped = time.monotonic()
    stderr = await exited(process)
    # The pass claimed nothing more, and the sends it had claimed all finished in time.
    assert time.monotonic() - stopped < SEND_WAIT
    posted = len(nudges(sim))
    assert 40 <= posted < FAN_OUT
    assert delivery_statuses(database_url) == {"sent": posted}
    assert "Traceback" not in stderr and "unconfirmed" not in stderr, stderr

    # Started again, its first pass sends the rest: one DM each, none twice.
    sim.latency = 0.0
    process = await start_cli(env, command)
    try:
        await sim.wait_for("chat.postMessage", count=FAN_OUT, timeout=20)
    finally:
        stderr = await stop(process)
    assert one_dm_each(sim, users)
    assert delivery_statuses(database_url) == {"sent": FAN_OUT}
    assert "Traceback" not in stderr


@ONE_PROCESS_AND_WORKER
async def test_sends_still_under_way_after_the_wait_are_left_for_a_pass_after_the_lease(
    database_url: str, sim: SlackSimulator, command: str
) -> None:
    users = seed_fan_out(database_url, sim)
    env = process_env(
        database_url, sim, PORT=str(free_port()), SLACK_SIGNING_SECRET=SECRET, LOG_LEVEL="INFO"
    )
    process = await start_cli(env, command)
    await sim.wait_for("chat.postMessage", count=40, timeout=20)
    # From now on Slack takes each post and keeps its answer: the sends never finish.
    answers = sim.hold("chat.postMessage")
    process.terminate()
    stopped = time.monotonic()
    stderr = await exited(process)
    assert SEND_WAIT <= time.monotonic() - stopped < SEND_WAIT + 2
    assert "Traceback" not in stderr and "CancelledError" not in stderr, stderr
    assert "left unconfirmed" in stderr
    # What Slack answered is recorded; the rest of what was claimed is left pending, some of it
    # already in the DMs (posted, its answer never read).
    statuses = delivery_statuses(database_url)
    in_dms = sum(dms_per_channel(sim, [f"D{user}" for user in users]).values())
    assert set(statuses) == {"sent", "pending"}
    assert statuses["sent"] < in_dms < FAN_OUT

    # A pass after the lease looks up each pending one in its DM before sending it.
    answers.set()
    sim.latency = 0.0
    later = datetime.now(UTC) + LEASE + timedelta(minutes=1)
    summary = await run_dispatch(database_url, sim, later)
    assert summary == f"sent {FAN_OUT - in_dms}, skipped {in_dms - statuses['sent']}, failed 0"
    assert one_dm_each(sim, users)
    assert delivery_statuses(database_url) == {"sent": FAN_OUT}
