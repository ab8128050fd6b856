"""Only genuine requests from Slack are acted on; everything else changes nothing."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.models import SeenItem
from devkit.slack_sim import signed_headers, slash_command_body
from tests.conftest import RunningApp


async def seen_count(app: RunningApp) -> int:
    async with app.ctx.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SeenItem)) or 0)


def tip_body(app: RunningApp) -> str:
    return slash_command_body("tip", response_url=app.sim.response_url("x"))


async def test_forged_signature_is_rejected_with_no_side_effect(app: RunningApp) -> None:
    reply = await app.slack.post(tip_body(app), headers={"X-Slack-Signature": "v0=" + "0" * 64})
    assert reply.status == 401
    assert await seen_count(app) == 0


async def test_missing_signature_is_rejected_with_no_side_effect(app: RunningApp) -> None:
    reply = await app.slack.post(tip_body(app), sign=False)
    assert reply.status == 401
    assert await seen_count(app) == 0


async def test_ten_minute_old_request_is_rejected_as_a_replay(app: RunningApp) -> None:
    reply = await app.slack.post(tip_body(app), timestamp=int(time.time()) - 600)
    assert reply.status == 401
    assert await seen_count(app) == 0


async def test_body_changed_after_signing_is_rejected(app: RunningApp) -> None:
    headers = signed_headers("test-signing-secret", tip_body(app))
    reply = await app.slack.post(tip_body(app).replace("tip", "blocker"), headers=headers)
    assert reply.status == 401
    assert await seen_count(app) == 0


async def test_oversized_body_is_refused(app: RunningApp) -> None:
    reply = await app.slack.post("text=" + "x" * 1_100_000)
    assert reply.status == 413
    assert await seen_count(app) == 0


@pytest.mark.parametrize("event_type", ["app_mention", "reaction_added", "something_new"])
async def test_events_we_do_not_handle_get_200(app: RunningApp, event_type: str) -> None:
    reply = await app.slack.event({"type": event_type, "user": "U0001", "ts": "1.000"})
    assert reply.status == 200


async def test_url_verification_challenge_is_answered(app: RunningApp) -> None:
    import json

    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    reply = await app.slack.post(body, content_type="application/json")
    assert reply.status == 200
    assert "abc123" in reply.body


async def test_healthz_answers_while_alive(app: RunningApp) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{app.url}/healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_readyz_answers_200_when_the_database_answers(app: RunningApp) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(f"{app.url}/readyz") as response:
        assert response.status == 200
