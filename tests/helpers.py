"""Steps many tests share: subscribing, dispatching, saying things in the DM, opening Home,
running the CLI, and reading the words out of Block Kit."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import select

from bot.app_context import AppContext
from bot.clock import ManualClock
from bot.models import Delivery, Reflection, Schedule
from bot.services.dispatch import METADATA_EVENT, Dispatcher, PassSummary
from devkit.slack_sim import (
    DEFAULT_TEAM_ID,
    DEFAULT_TOKEN,
    RecordedCall,
    SlackSimulator,
    block_action_body,
    sign,
    view_submission_body,
)
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import ENCRYPTION_KEY, SIGNING_SECRET, RunningApp

DUE = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)  # Monday 30 November, 9:00 am in Auckland


async def subscribe(
    app: RunningApp, words: str = "weekly", user_id: str = "U0001", team_id: str = "T0001"
) -> None:
    app.sim.clear()
    await app.slack.slash(words, user_id=user_id, team_id=team_id)
    await app.settle()
    await app.sim.wait_for("response_url")


async def dispatch_at(app: RunningApp, clock: ManualClock, instant: datetime) -> PassSummary:
    clock.set(instant)
    return await app.ctx.dispatcher.run_pass()


def nudge_calls(sim: SlackSimulator) -> list[RecordedCall]:
    """Every call that posted a nudge Slack accepted, in order (`.team_id`: whose token)."""
    return [
        call
        for call in sim.calls_to("chat.postMessage")
        if call.failed is None and (call.body.get("metadata") or {}).get("event_type")
    ]


def nudges(sim: SlackSimulator) -> list[dict]:
    """Every nudge Slack accepted, in order."""
    return [call.body for call in nudge_calls(sim)]


async def deliveries(app: RunningApp) -> list[Delivery]:
    async with app.ctx.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def schedule_of(app: RunningApp, user_id: str = "U0001", team_id: str = "T0001") -> Schedule:
    async with app.ctx.sessions() as session:
        schedule = await session.scalar(
            select(Schedule).where(Schedule.team_id == team_id, Schedule.user_id == user_id)
        )
    assert schedule is not None
    return schedule


def block_texts(node: object) -> list[str]:
    """The words a person reads in Block Kit, in order: every text object (section and header
    text, fields, context elements, button labels, options, titles, labels and placeholders) and
    every rich-text run. Give it blocks, one block or a whole view. Ids, values and URLs are not
    words, so they are left out."""
    texts: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn", "text") and isinstance(
                node.get("text"), str
            ):
                texts.append(node["text"])
                return
            for value in node.values():
                walk(value)

    walk(node)
    return texts


def blocks_text(node: object) -> str:
    """The words in these blocks, one text object a line."""
    return "\n".join(block_texts(node))


def message_text(message: dict) -> str:
    """A message's fallback text and the words in its blocks."""
    return "\n".join([str(message.get("text") or ""), blocks_text(message.get("blocks", []))])


def text_of(message: dict) -> str:
    """The words in a message's blocks."""
    return blocks_text(message["blocks"])


def elements(node: object) -> list[dict]:
    """Every interactive element in these blocks (buttons, menus, inputs), in order."""
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "action_id" in node:
                found.append(node)
            for value in node.values():
                walk(value)

    walk(node)
    return found


def action_ids(node: object) -> list[str]:
    """The action id of every interactive element in these blocks."""
    return [element["action_id"] for element in elements(node)]


CHANNEL = "DU0001"


def ts_at(instant: datetime, micro: int = 0) -> str:
    return f"{int(instant.timestamp())}.{micro:06d}"


def dm(text: str, ts: str, *, user: str = "U0001", channel: str = CHANNEL, **extra: object) -> dict:
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        **extra,
    }


async def send_nudge(app: RunningApp, clock: ManualClock) -> Delivery:
    await subscribe(app)
    await dispatch_at(app, clock, DUE)
    async with app.ctx.sessions() as session:
        delivery = await session.scalar(select(Delivery))
    assert delivery is not None and delivery.message_ts
    return delivery


async def reflections(app: RunningApp) -> list[Reflection]:
    """The stored rows, each text decrypted back to what the person wrote (it is stored
    encrypted; the rows are detached, so this changes nothing stored)."""
    async with app.ctx.sessions() as session:
        rows = list(await session.scalars(select(Reflection).order_by(Reflection.id)))
    for row in rows:
        row.text = app.ctx.keyring.decrypt(row.text)
    return rows


async def say(app: RunningApp, event: dict, *, team_id: str | None = None, **headers: str) -> None:
    """An event from `team_id` (else the event's `team`, else T0001), and its work done."""
    reply = await app.slack.post_event(event, headers=headers, team_id=team_id)
    assert reply.status == 200
    await app.settle()


def edit_event(ts: str, text: str, *, user: str = "U0001", channel: str = CHANNEL) -> dict:
    """Slack's message_changed event: the author is on the message, not the event."""
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": channel,
        "channel_type": "im",
        "ts": ts_at(DUE, 9),
        "message": {"type": "message", "user": user, "text": text, "ts": ts},
    }


def delete_event(ts: str, *, user: str | None = "U0001", channel: str = CHANNEL) -> dict:
    """Slack's message_deleted event: the author, when known, is on the previous message."""
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": channel,
        "channel_type": "im",
        "deleted_ts": ts,
        "ts": ts_at(DUE, 5),
    }
    if user is not None:
        event["previous_message"] = {"type": "message", "user": user, "text": "x", "ts": ts}
    return event


async def open_reflect_modal(app: RunningApp, delivery: Delivery) -> dict:
    """Its person presses Reflect on the nudge, in its workspace; the modal Slack opened."""
    app.sim.clear()
    await app.slack.click(
        "nudge_reflect", str(delivery.id), team_id=delivery.team_id, user_id=delivery.user_id
    )
    await app.settle()
    [opened] = app.sim.calls_to("views.open")
    return opened.body["view"]


async def submit_modal(
    app: RunningApp, view: dict, text: str, *, team_id: str = "T0001", user_id: str = "U0001"
) -> dict:
    enterprise_id, org_wide = app.sim.grid_of(team_id)
    body = view_submission_body(
        view["callback_id"],
        {"reflection": {"reflection_text": {"type": "plain_text_input", "value": text}}},
        team_id=team_id,
        user_id=user_id,
        private_metadata=view["private_metadata"],
        enterprise_id=enterprise_id,
        org_wide=org_wide,
    )
    reply = await app.slack.post(body)
    assert reply.status == 200
    await app.settle()
    return reply.json() if reply.body else {}


async def open_home(app: RunningApp, user_id: str = "U0001", team_id: str = "T0001") -> list[dict]:
    """Open Home and return the blocks published to it."""
    app.sim.clear()
    opened = {"type": "app_home_opened", "user": user_id, "tab": "home", "channel": "D1"}
    await say(app, opened, team_id=team_id)
    [published] = app.sim.calls_to("views.publish")
    assert published.body["user_id"] == user_id
    return published.body["view"]["blocks"]


def latest_home(app: RunningApp) -> str:
    """The words of the Home tab as last published."""
    return blocks_text(app.sim.calls_to("views.publish")[-1].body["view"]["blocks"])


async def press(
    app: RunningApp,
    action_id: str,
    value: str = "x",
    *,
    team_id: str = "T0001",
    user_id: str = "U0001",
    **extra: object,
) -> None:
    """A press on the Home tab (or in a modal: give `view`)."""
    enterprise_id, org_wide = app.sim.grid_of(team_id)
    body = block_action_body(
        action_id,
        value,
        team_id=team_id,
        user_id=user_id,
        view={"id": "VHOME", "type": "home"},
        trigger_id="T-trigger",
        enterprise_id=enterprise_id,
        org_wide=org_wide,
        **extra,
    )
    assert (await app.slack.post(body)).status == 200
    await app.settle()


async def command_message(
    app: RunningApp,
    text: str,
    user_id: str = "U0001",
    team_id: str = "T0001",
    *,
    channel_id: str = "C0001",
) -> dict:
    """The whole answer to `/leading-tip <text>` typed in `channel_id`: in the ack, or (words
    that answer after the ack) at the response URL, only to the person."""
    app.sim.clear()
    reply = await app.slack.slash(text, user_id=user_id, team_id=team_id, channel_id=channel_id)
    assert reply.status == 200
    if reply.body:
        return reply.json()
    [sent] = await app.sim.wait_for("response_url")
    assert sent.body["response_type"] == "ephemeral"
    return sent.body


async def command_reply(
    app: RunningApp,
    text: str,
    user_id: str = "U0001",
    team_id: str = "T0001",
    *,
    channel_id: str = "C0001",
) -> str:
    """The fallback text of the answer to `/leading-tip <text>`."""
    message = await command_message(app, text, user_id, team_id, channel_id=channel_id)
    return str(message.get("text", ""))


async def schedule_or_none(app: RunningApp, user_id: str = "U0001") -> Schedule | None:
    async with app.ctx.sessions() as session:
        return await session.scalar(select(Schedule).where(Schedule.user_id == user_id))


CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("SLACK_", "DATABASE_URL", "ENCRYPTION_KEYS"))
}


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**CLEAN_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


async def run_cli_beside(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`run_cli` without blocking this event loop, so a simulator in it can answer."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**CLEAN_ENV, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return subprocess.CompletedProcess(
        list(args), process.returncode or 0, out.decode(), err.decode()
    )


JSON = "application/json"


FORM = "application/x-www-form-urlencoded"


@dataclass
class Answer:
    status: int
    body: str
    seconds: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}


async def send(
    app: RunningApp,
    body: bytes | str,
    *,
    content_type: str = JSON,
    timestamp: str | None = None,
    chunked: bool = False,
) -> Answer:
    """POST signed bytes to /slack/events; `chunked` sends them with no Content-Length."""
    raw = body.encode() if isinstance(body, str) else body
    stamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(SIGNING_SECRET, raw, stamp),
    }

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start : start + 64 * 1024]

    started = time.monotonic()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{app.url}/slack/events", data=pieces() if chunked else raw, headers=headers
        ) as response,
    ):
        reply = await response.text()
        return Answer(response.status, reply, time.monotonic() - started)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info or record.exc_text or "Traceback" in record.getMessage()
    ]


async def install_token(
    ctx: AppContext,
    team_id: str,
    token: str,
    *,
    enterprise_id: str | None = None,
    org_wide: bool = False,
    bot_user_id: str = "UBOT0001",
    bot_refresh_token: str | None = None,
    user_token: str | None = None,
    user_refresh_token: str | None = None,
) -> None:
    """An install saved as the OAuth flow saves one (multi-workspace mode), without the web
    round trip: for tests about what is stored, not how it got there. A refresh token makes
    the token rotating (twelve hours to go)."""
    await ctx.installations.save(
        Installation(
            app_id="A0001",
            enterprise_id=enterprise_id,
            team_id=None if org_wide else team_id,
            user_id="U0001",
            bot_token=token,
            bot_id="B" + team_id,
            bot_user_id=bot_user_id,
            bot_refresh_token=bot_refresh_token,
            bot_token_expires_in=12 * 60 * 60 if bot_refresh_token else None,
            user_token=user_token,
            user_refresh_token=user_refresh_token,
            user_token_expires_in=12 * 60 * 60 if user_refresh_token else None,
            is_enterprise_install=org_wide,
        )
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_serve(
    env: dict[str, str], *, scheduler: bool = False
) -> asyncio.subprocess.Process:
    """`leading-bot serve --no-scheduler` (or with its scheduler) as its own process, its
    stderr kept for the test."""
    return await start_cli(env, "serve", *([] if scheduler else ["--no-scheduler"]))


async def start_cli(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """`leading-bot <args>` left running as its own process, its stderr kept for the test."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def process_env(database_url: str, sim: SlackSimulator, **settings: str) -> dict[str, str]:
    """The environment an operator gives `leading-bot` against the simulator: this test's
    database, the default workspace's bot token, and `settings` (e.g. PORT) on top."""
    return {
        **CLEAN_ENV,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_API_URL": sim.base_url,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "LOG_LEVEL": "WARNING",
        **settings,
    }


async def read_stderr_until(process: asyncio.subprocess.Process, text: str) -> None:
    """Read a running process's log until a line with `text` (not logged: a test failure)."""
    assert process.stderr is not None
    async with asyncio.timeout(20):
        while line := await process.stderr.readline():
            if text in line.decode():
                return
    raise AssertionError(f"the process ended without logging {text!r}")


async def stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as a container platform stops it; its stderr. It must exit 0."""
    process.terminate()
    return await exited(process)


async def exited(process: asyncio.subprocess.Process) -> str:
    """Its stderr (what is left unread) once it has exited, which must be with status 0."""
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def wait_until_healthy(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(300):
        try:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            await asyncio.sleep(0.05)
    raise AssertionError("serve never answered /healthz")


# --- dispatch passes and what they sent ----------------------------------------------------


def dms_per_channel(
    sim: SlackSimulator, channels: list[str], team_id: str = DEFAULT_TEAM_ID
) -> Counter[str]:
    """How many of our nudges (our metadata) each DM channel holds."""
    counts: Counter[str] = Counter()
    for channel in channels:
        for message in sim.messages(channel, team_id=team_id):
            if (message.get("metadata") or {}).get("event_type") == METADATA_EVENT:
                counts[channel] += 1
    return counts


async def run_dispatch(database_url: str, sim: SlackSimulator, at: datetime) -> str:
    process = await start_dispatch(database_url, sim, at)
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return stdout.decode().strip()


async def start_dispatch(
    database_url: str,
    sim: SlackSimulator,
    at: datetime,
    *,
    bot_token: str | None = DEFAULT_TOKEN,
    encryption_keys: str = ENCRYPTION_KEY,
) -> asyncio.subprocess.Process:
    """`leading-bot dispatch --at <at>` as its own process; `bot_token=None`: multi-workspace
    mode, each workspace's own install is used (pass the keys it was stored with)."""
    env = {
        **CLEAN_ENV,
        "DATABASE_URL": database_url,
        "SLACK_API_URL": sim.base_url,
        "ENCRYPTION_KEYS": encryption_keys,
        "LOG_LEVEL": "WARNING",
    }
    if bot_token is not None:
        env["SLACK_BOT_TOKEN"] = bot_token
    else:
        env["SLACK_CLIENT_ID"] = sim_oauth.CLIENT_ID
        env["SLACK_CLIENT_SECRET"] = sim_oauth.CLIENT_SECRET
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "dispatch",
        "--at",
        at.isoformat(),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def give_own_token(ctx: AppContext, sim: SlackSimulator, team_id: str) -> str:
    """A workspace installed with its own bot token (multi-workspace mode): known to the
    simulator, and saved as the OAuth flow saves an install."""
    token = f"xoxb-test-{team_id}"
    sim.add_workspace(team_id, token, f"UBOT{team_id}", name=team_id)
    await install_token(ctx, team_id, token, bot_user_id=f"UBOT{team_id}")
    return token


def dispatcher_with(ctx: AppContext, clock: ManualClock, **limits: Any) -> Dispatcher:
    """The app's dispatcher with other limits (batch size, concurrency, pacing…)."""
    return Dispatcher(
        ctx.sessions,
        ctx.library,
        clock,
        ctx.settings,
        ctx.slack,
        ctx.installations,
        messages=ctx.dispatcher.messages,
        keyring=ctx.keyring,
        **limits,
    )
