"""GET /metrics: Prometheus text with requests, ack latency, Slack calls, reflections and
installs; kinds in labels, never people or their words. `leading-bot scheduler` serves the same
on METRICS_PORT, also in prometheus-client's multiprocess mode."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.clock import ManualClock
from bot.crypto import new_key
from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator
from tests.conftest import RunningApp
from tests.helpers import (
    CLEAN_ENV,
    DUE,
    delete_event,
    dispatch_at,
    dm,
    edit_event,
    free_port,
    say,
    subscribe,
    ts_at,
)

CANARY = "tūī-canary-5120"


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    assert CANARY not in text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def grew(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_requests_slack_calls_and_reflections_by_kind_only(
    app: RunningApp,
) -> None:
    before = await scrape(app.url)
    await app.slack.slash("tip")
    await app.slack.slash(f"{CANARY} please")
    forged = await app.slack.post("command=/leading-tip&text=tip", sign=False)
    assert forged.status == 401
    ts = ts_at(DUE)
    await say(app, dm(f"First thoughts {CANARY}", ts))
    await say(app, edit_event(ts, f"Second thoughts {CANARY}"))
    await say(app, delete_event(ts))
    app.sim.fail("reactions.add", error="too_many_reactions")
    await say(app, dm("Another one", ts_at(DUE, 1)))
    after = await scrape(app.url)

    assert grew(before, after, "leading_requests_total", surface="slash:tip", outcome="ok") == 1
    assert grew(before, after, "leading_requests_total", surface="slash:unknown", outcome="ok") == 1
    assert grew(before, after, "leading_requests_total", surface="unknown", outcome="refused") == 1
    assert grew(before, after, "leading_requests_total", surface="event:message", outcome="ok") == 4
    assert grew(before, after, "leading_ack_seconds_count") >= 6
    assert grew(before, after, "leading_reflections_total", action="stored") == 2
    assert grew(before, after, "leading_reflections_total", action="edited") == 1
    assert grew(before, after, "leading_reflections_total", action="deleted") == 1
    assert (
        grew(before, after, "leading_slack_api_calls_total", method="reactions.add", result="ok")
        == 1
    )
    assert (
        grew(
            before,
            after,
            "leading_slack_api_calls_total",
            method="reactions.add",
            result="too_many_reactions",
        )
        == 1
    )
    assert after[("leading_installations_active", ())] == 1
    labels = {value for (_, pairs) in after for (_, value) in pairs}
    assert not {"U0001", "T0001", DEFAULT_TOKEN} & labels


async def test_installations_active_counts_installed_workspaces(multi_app: RunningApp) -> None:
    assert (await scrape(multi_app.url))[("leading_installations_active", ())] == 0
    for team in ("T0100", "T0200"):
        assert (await multi_app.slack.install(team)).status == 200
    assert (await scrape(multi_app.url))[("leading_installations_active", ())] == 2


async def run_scheduler_and_scrape(env: dict[str, str], port: int) -> str:
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
        async with aiohttp.ClientSession() as http:
            for _ in range(400):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                        text = await response.text()
                        if "leading_dispatch_pass_seconds_count 1.0" in text:
                            return text
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the scheduler never served a pass's metrics")
    finally:
        process.terminate()
        await process.communicate()


async def test_the_scheduler_serves_metrics_on_metrics_port_in_either_process_mode(
    sim: SlackSimulator, tmp_path: Path
) -> None:
    for multiprocess in (False, True):
        port = free_port()
        env = {
            **CLEAN_ENV,
            "DATABASE_URL": f"sqlite:///{tmp_path / f'm{multiprocess}.db'}",
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_API_URL": sim.base_url,
            "ENCRYPTION_KEYS": new_key(),
            "METRICS_PORT": str(port),
        }
        if multiprocess:
            shared = tmp_path / "prometheus"
            shared.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
        text = await run_scheduler_and_scrape(env, port)
        assert "leading_installations_active 1.0" in text
        if multiprocess:
            assert os.listdir(tmp_path / "prometheus")  # figures written where every worker reads


async def test_nudges_are_counted_by_result_and_reason_and_claims_by_row(
    app: RunningApp, clock: ManualClock
) -> None:
    await subscribe(app)
    before = await scrape(app.url)
    app.sim.fail("chat.postMessage", status=500)
    await dispatch_at(app, clock, DUE)
    await dispatch_at(app, clock, DUE + timedelta(minutes=1))
    after = await scrape(app.url)
    assert grew(before, after, "leading_nudges_total", result="retry", reason="internal_error") == 1
    assert grew(before, after, "leading_nudges_total", result="sent", reason="none") == 1
    assert grew(before, after, "leading_dispatch_claimed_total") == 2  # claimed, then reclaimed
