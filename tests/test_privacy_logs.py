"""What people write never reaches a log, whatever LOG_LEVEL says and whatever goes wrong."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.clock import ManualClock
from bot.logs import hold_chatty_loggers
from bot.web import REFUSED_SIGNATURE
from devkit.slack_sim import event_body, signed_headers
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, RunningApp
from tests.helpers import (
    CHANNEL,
    DUE,
    dm,
    open_reflect_modal,
    reflections,
    say,
    send_nudge,
    submit_modal,
    ts_at,
)

# Letters, digits and hyphens only: it reads the same in JSON, form-encoded and plain text, so a
# body logged in any of those shapes would show it.
CANARY = "Canary-5e1d7f3a-the-charge-nurse-and-I-disagreed"
NEVER_LOGGED = {"canary": CANARY, "bot token": BOT_TOKEN, "signing secret": SIGNING_SECRET}


class EveryRecord(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def every_record() -> Iterator[list[logging.LogRecord]]:
    """The root logger at DEBUG (LOG_LEVEL=DEBUG) with a handler that keeps every record.

    Requested before `app`, so Bolt builds its loggers under that level, as in production."""
    root = logging.getLogger()
    handler = EveryRecord()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    hold_chatty_loggers()
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def everything_in(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.msg), repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    parts += [record.exc_text or "", record.stack_info or ""]
    return "\n".join(parts)


def leaks(records: list[logging.LogRecord]) -> list[str]:
    return [
        f"{what} in {record.name} {record.levelname}: {record.getMessage()[:200]}"
        for record in records
        for what, secret in NEVER_LOGGED.items()
        if secret in everything_in(record)
    ]


@asynccontextmanager
async def reflections_refused(app: RunningApp, how: str) -> AsyncIterator[None]:
    """Make the database refuse new reflections for real, and put it right afterwards."""
    engine = app.ctx.engine
    postgres = engine.dialect.name == "postgresql"
    if how == "trigger" and postgres:
        setup = [
            "CREATE FUNCTION refuse_reflection() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'reflections are refused'; END $$",
            "CREATE TRIGGER refuse_reflection BEFORE INSERT ON reflections "
            "FOR EACH ROW EXECUTE FUNCTION refuse_reflection()",
        ]
        teardown = [
            "DROP TRIGGER refuse_reflection ON reflections",
            "DROP FUNCTION refuse_reflection()",
        ]
    elif how == "trigger":
        setup = [
            "CREATE TRIGGER refuse_reflection BEFORE INSERT ON reflections "
            "BEGIN SELECT RAISE(ABORT, 'reflections are refused'); END"
        ]
        teardown = ["DROP TRIGGER refuse_reflection"]
    else:  # PostgreSQL quotes the whole refused row ("Failing row contains (…)") in its error
        setup = ["ALTER TABLE reflections ADD CONSTRAINT refused CHECK (false) NOT VALID"]
        teardown = ["ALTER TABLE reflections DROP CONSTRAINT refused"]
    async with engine.begin() as connection:
        for statement in setup:
            await connection.execute(text(statement))
    try:
        yield
    finally:
        async with engine.begin() as connection:
            for statement in teardown:
                await connection.execute(text(statement))


def change(subtype: str, **fields: object) -> dict:
    """An edit or deletion event in the person's DM, as Slack sends it."""
    ts = f"{time.time():.6f}"
    return {
        "type": "message",
        "subtype": subtype,
        "channel": CHANNEL,
        "channel_type": "im",
        "ts": ts,
        "event_ts": ts,
        **fields,
    }


async def event_signed_with(app: RunningApp, secret: str, *, age: timedelta) -> int:
    body = event_body(dm(f"{CANARY} signed badly", ts_at(DUE + timedelta(hours=5))))
    timestamp = int(time.time() - age.total_seconds())
    headers = signed_headers(secret, body, timestamp=timestamp, content_type="application/json")
    reply = await app.slack.post(body, content_type="application/json", headers=headers)
    return reply.status


async def test_no_words_or_tokens_reach_any_log_record_on_any_path(
    every_record: list[logging.LogRecord], app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    # A DM reply in the nudge's thread, then its edit and its deletion.
    ts = ts_at(DUE + timedelta(hours=1))
    await say(app, dm(CANARY, ts, thread_ts=nudge.message_ts))
    old = {"type": "message", "user": "U0001", "text": CANARY, "ts": ts}
    edited = {**old, "text": f"{CANARY} (edited)"}
    await say(app, change("message_changed", message=edited, previous_message=old))
    # A top-level DM that is kept, to show in the journal and the export.
    await say(app, dm(f"{CANARY} kept", ts_at(DUE + timedelta(hours=2))))
    await say(app, change("message_deleted", deleted_ts=ts, previous_message=edited))
    # The Reflect modal, and the slash command with the words typed after it.
    await submit_modal(app, await open_reflect_modal(app, nudge), f"{CANARY} in the modal")
    for words in (CANARY, "journal", "export"):
        await app.slack.slash(words)
    await app.settle()
    # Requests Bolt refuses: a rotated signing secret, and a replay from ten minutes ago.
    assert await event_signed_with(app, "a-rotated-secret", age=timedelta(0)) == 401
    assert await event_signed_with(app, SIGNING_SECRET, age=timedelta(minutes=10)) == 401
    # The database refusing the write, on each path that writes what people type.
    faults = ["trigger", "check"] if app.ctx.engine.dialect.name == "postgresql" else ["trigger"]
    for n, fault in enumerate(faults):
        async with reflections_refused(app, fault):
            await say(app, dm(f"{CANARY} refused", ts_at(DUE + timedelta(hours=3 + n))))
            answer = await submit_modal(app, await open_reflect_modal(app, nudge), CANARY)
            assert answer["response_action"] == "errors"

    assert [r.text for r in await reflections(app)] == [
        f"{CANARY} kept",
        f"{CANARY} in the modal",
    ]
    logged = [record.getMessage() for record in every_record]
    # The capture saw every path: the app's own lines and Bolt's refusals.
    assert any(line.startswith("reflection from T0001/U0001: saved") for line in logged)
    assert sum("saving a reflection failed" in line for line in logged) == len(faults)
    assert sum("saving a reflection from the modal failed" in line for line in logged) == len(
        faults
    )
    refusals = [r for r in every_record if r.getMessage() == REFUSED_SIGNATURE]
    assert len(refusals) == 2
    assert leaks(every_record) == []


@pytest.fixture
def bolt_at_debug(app: RunningApp) -> Iterator[None]:
    """Someone turns Bolt's logger up to DEBUG after start-up, past where the app holds it."""
    bolt = logging.getLogger("bot.bolt")
    level = bolt.level
    bolt.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        bolt.setLevel(level)


async def test_bolt_lines_that_quote_a_body_keep_the_line_but_lose_the_body(
    every_record: list[logging.LogRecord], app: RunningApp, bolt_at_debug: None
) -> None:
    await say(app, dm(f"{CANARY} kept", ts_at(DUE)))
    await app.slack.slash("journal")  # the ack carries the journal: Bolt logs it at DEBUG
    await app.settle()
    # Our endpoint checks signatures and request types before Bolt, so Bolt's own refusals
    # are not reached over HTTP; they are written here as Bolt writes them, on its loggers.
    verification = logging.getLogger("slack_bolt.RequestVerification")
    verification.info(f"Invalid request signature detected (signature: x, body: {CANARY})")
    logging.getLogger("bot.bolt").warning(f"Unhandled request ({{'value': '{CANARY}'}})")
    logged = [record.getMessage() for record in every_record]
    assert "Responding to Slack; the body is not logged" in logged
    assert "Unhandled request; its body is not logged" in logged
    assert any(line.startswith("A request failed Slack's signature check") for line in logged)
    assert leaks(every_record) == []
