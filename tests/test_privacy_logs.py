"""What people write never reaches a log, whatever LOG_LEVEL says and whatever goes wrong."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bot.clock import ManualClock
from bot.logs import hold_chatty_loggers
from bot.web import REFUSED_SIGNATURE
from devkit.slack_sim import event_body, signed_headers
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, RunningApp
from tests.faults import refuse_inserts, rename_table
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


def leaks(records: list[logging.LogRecord], never: dict[str, str] = NEVER_LOGGED) -> list[str]:
    return [
        f"{what} in {record.name} {record.levelname}: {record.getMessage()[:200]}"
        for record in records
        for what, secret in never.items()
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
    # Their Slack status, read before the nudge with their zone.
    app.sim.set_status("T0001", "U0001", emoji=":hospital:", text=f"{CANARY} in clinic")
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


async def test_installs_and_token_refreshes_log_no_token_code_client_secret_or_state(
    every_record: list[logging.LogRecord], multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    url = app.ctx.settings.database_url
    never: dict[str, str] = {"client secret": sim_oauth.CLIENT_SECRET}
    # An install with rotating bot and user tokens.
    start = await app.slack.start_install()
    code = app.sim.authorize_install("T0100", rotating=True, user_token=True)
    assert (await app.slack.finish_install(start, code)).status == 200
    never |= {"code": code, "state": start.state}
    # Installs that fail: a code Slack refuses, a reused state, the database refusing the save,
    # and the state table missing when the state is checked.
    refused = await app.slack.start_install()
    assert (await app.slack.finish_install(refused, "code-refused-7d1c")).status == 400
    reused_code = app.sim.authorize_install("T0200")
    assert (await app.slack.finish_install(start, reused_code)).status == 400
    unsaved = await app.slack.start_install()
    unsaved_code = app.sim.authorize_install("T0300")
    with refuse_inserts(url, "slack_installations"):
        assert (await app.slack.finish_install(unsaved, unsaved_code)).status == 503
    unchecked = await app.slack.start_install()
    with rename_table(url, "slack_oauth_states"):
        page = await app.slack.finish_install(unchecked, app.sim.authorize_install("T0400"))
        assert page.status == 400
    never |= {
        "refused code": "code-refused-7d1c",
        "reused code": reused_code,
        "unsaved code": unsaved_code,
        **{f"state {n}": s.state for n, s in enumerate((refused, unsaved, unchecked))},
    }
    # The bot token refreshed near its expiry, then a refresh Slack refuses.
    assert app.ctx.installations.store is not None
    first = await app.ctx.installations.store.async_find_installation(
        enterprise_id=None, team_id="T0100"
    )
    assert first is not None and first.bot_token_expires_at and first.user_refresh_token
    app.sim.add_user("T0100", "U0001")
    clock.set(datetime.fromtimestamp(first.bot_token_expires_at, UTC) - timedelta(hours=1))
    await app.slack.slash("weekly", team_id="T0100")
    await app.settle()
    app.sim.refuse_refresh("T0100")
    clock.advance(timedelta(hours=12))
    await say(app, {"type": "app_home_opened", "user": "U0001", "tab": "home", "team": "T0100"})
    never |= {
        "bot token": str(first.bot_token),
        "bot refresh token": str(first.bot_refresh_token),
        "user token": str(first.user_token),
        "user refresh token": str(first.user_refresh_token),
        "refreshed bot token": app.sim.token_of("T0100"),
    }
    assert first.bot_token != app.sim.token_of("T0100")

    logged = [record.getMessage() for record in every_record]
    # The capture saw each path, in the app's words.
    for reason in ("invalid_code", "invalid_state", "storage_error"):
        assert f"an install did not finish: {reason}" in logged
    assert "Slack did not accept an install's code; the code is not logged" in logged
    assert "An install link's state was used; its value is not logged" in logged
    assert any(line.startswith("An install link's state could not be checked") for line in logged)
    assert "refreshing the bot token for T0100 failed: invalid_refresh_token" in logged
    assert leaks(every_record, never) == []
