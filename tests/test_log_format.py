"""LOG_FORMAT=json: one JSON object a line, with ids, request kind and duration, never words;
APScheduler's every-minute lines only at DEBUG."""

from __future__ import annotations

import json
import logging
import sys

import aiohttp
import pytest

from bot.logs import EveryMinuteToDebug, JsonLines, configure_logging
from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator, signed_headers, slash_command_body
from tests.helpers import free_port, process_env, run_cli, start_serve, wait_until_healthy

CANARY = "kōrero-canary-8841 about the roster"


async def test_json_logs_from_a_real_serve_carry_ids_kind_and_duration_but_no_words(
    database_url: str, sim: SlackSimulator
) -> None:
    port = free_port()
    env = process_env(
        database_url,
        sim,
        SLACK_SIGNING_SECRET="json-secret",
        PORT=str(port),
        LOG_LEVEL="INFO",
        LOG_FORMAT="json",
    )
    process = await start_serve(env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_until_healthy(http, base)
            body = slash_command_body(CANARY, response_url=sim.response_url("json"))
            headers = signed_headers("json-secret", body)
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
            forged = signed_headers("not-the-secret", body)
            async with http.post(f"{base}/slack/events", data=body, headers=forged) as response:
                assert response.status == 401
    finally:
        process.terminate()
        _, stderr = await process.communicate()
    lines = stderr.decode().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    [answered] = [e for e in entries if e.get("request_kind") == "slash_command"]
    assert answered["team_id"] == "T0001" and answered["user_id"] == "U0001"
    assert isinstance(answered["duration_ms"], float)
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # uvicorn's lines too
    assert any("signature did not verify" in e["message"] for e in entries)
    assert CANARY.split()[0] not in stderr.decode() and DEFAULT_TOKEN not in stderr.decode()


def test_a_log_format_that_is_neither_text_nor_json_stops_start_up_in_one_line() -> None:
    result = run_cli("dispatch", LOG_FORMAT="yaml")
    assert result.returncode == 2
    assert result.stderr.strip() == "Configuration error: LOG_FORMAT: must be text or json"


def test_a_json_line_keeps_the_traceback_and_only_the_context_fields() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord(
            "bot.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    record.team_id = "T0001"
    record.password = "never"
    entry = json.loads(JsonLines().format(record))
    assert entry["team_id"] == "T0001" and "password" not in entry
    assert "RuntimeError: boom" in entry["traceback"]


@pytest.mark.parametrize(("level", "shown"), [(logging.INFO, False), (logging.DEBUG, True)])
def test_apscheduler_every_minute_lines_show_only_at_debug(
    level: int, shown: bool, caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging(level)
    root = logging.getLogger()
    before = root.level
    root.setLevel(level)
    caplog.set_level(level)
    try:
        logging.getLogger("apscheduler.executors.default").info('Running job "dispatch"')
        logging.getLogger("apscheduler.executors.default").warning("Run time of job was missed")
    finally:
        root.setLevel(before)
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert (("DEBUG", 'Running job "dispatch"') in messages) is shown
    assert ("WARNING", "Run time of job was missed") in messages
    assert any(
        isinstance(f, EveryMinuteToDebug)
        for f in logging.getLogger("apscheduler.executors.default").filters
    )
