"""Installs with rotating tokens: refreshed before they expire, by the web process and the
scheduler alike, the new token kept encrypted; a refresh Slack refuses keeps the old token.

slack_sdk works out a token's expiry from the real time of the install, while the app asks the
injected clock whether it is near: so each test moves the clock relative to the stored expiry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.oauth.installation_store import Bot
from sqlalchemy import select

from bot.clock import ManualClock
from bot.models import slack_bots
from bot.services.installations import REFRESH_BEFORE, REFRESH_HOLD_OFF
from tests.conftest import RunningApp
from tests.helpers import dispatch_at, nudges, say, schedule_of

TEAM = "T0100"
TWELVE_HOURS = 12 * 60 * 60


async def install_rotating(app: RunningApp) -> datetime:
    """Install TEAM with rotating tokens; the stored expiry of its bot token."""
    page = await app.slack.install(TEAM, rotating=True, expires_in=TWELVE_HOURS)
    assert page.status == 200, page.body
    app.sim.add_user(TEAM, "U0001", tz="UTC")
    bot = await found_bot(app)
    assert bot.bot_token_expires_at and bot.bot_refresh_token
    return datetime.fromtimestamp(bot.bot_token_expires_at, UTC)


async def found_bot(app: RunningApp) -> Bot:
    """TEAM's bot install as the app reads it (tokens decrypted)."""
    assert app.ctx.installations.store is not None
    bot = await app.ctx.installations.store.async_find_bot(enterprise_id=None, team_id=TEAM)
    assert bot is not None
    return bot


async def stored_bots(app: RunningApp) -> list[dict]:
    async with app.ctx.engine.connect() as connection:
        return [dict(row) for row in (await connection.execute(select(slack_bots))).mappings()]


def bearers(app: RunningApp) -> list[str]:
    """The token of each Web API call, in order (the refresh itself carries none)."""
    return [
        str(call.headers.get("Authorization", "")).removeprefix("Bearer ")
        for call in app.sim.calls
        if call.team_id
    ]


def refreshes(app: RunningApp) -> list[dict]:
    return [
        call.body
        for call in app.sim.calls_to("oauth.v2.access")
        if call.body.get("grant_type") == "refresh_token"
    ]


async def test_a_slash_command_near_expiry_refreshes_first_and_uses_the_new_token(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    expires = await install_rotating(app)
    old = app.sim.token_of(TEAM)
    [before] = await stored_bots(app)

    # Two hours and a minute to go: the token is used as it is.
    clock.set(expires - REFRESH_BEFORE - timedelta(minutes=1))
    app.sim.clear()
    await say(app, {"type": "app_home_opened", "user": "U0001", "tab": "home", "team": TEAM})
    assert refreshes(app) == [] and set(bearers(app)) == {old}

    # Within two hours: refreshed before the command's first call, which uses the new token.
    clock.set(expires - REFRESH_BEFORE + timedelta(minutes=1))
    app.sim.clear()
    assert (await app.slack.slash("weekly", team_id=TEAM)).status == 200
    await app.settle()
    [refresh] = refreshes(app)
    assert app.sim.calls[0].method == "oauth.v2.access"
    new = app.sim.token_of(TEAM)
    assert new != old and set(bearers(app)) == {new}
    [looked_up] = app.sim.calls_to("users.info")  # for the person's time zone
    assert looked_up.headers["Authorization"] == f"Bearer {new}"
    assert "refresh_token" in refresh

    # Kept encrypted, in the same row, with its new expiry from the injected clock.
    [after] = await stored_bots(app)
    assert after["id"] == before["id"]
    assert new not in str(after) and app.ctx.keyring.decrypt(after["bot_token"]) == new
    bot = await found_bot(app)
    assert bot.bot_token == new
    assert bot.bot_token_expires_at == int((clock() + timedelta(hours=12)).timestamp())

    # The next request finds the fresh token and does not refresh again.
    app.sim.clear()
    await say(app, {"type": "app_home_opened", "user": "U0001", "tab": "home", "team": TEAM})
    assert refreshes(app) == [] and set(bearers(app)) == {new}


async def test_the_scheduler_refreshes_a_token_near_expiry_before_sending(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    expires = await install_rotating(app)
    old = app.sim.token_of(TEAM)
    # A weekly nudge due within the last two hours of the token's life (the person is in UTC).
    due = (expires - timedelta(minutes=60)).replace(minute=0, second=0, microsecond=0)
    clock.set(due - timedelta(days=2))
    day = due.strftime("%a").lower()
    assert (await app.slack.slash(f"weekly {day} {due:%H}:00", team_id=TEAM)).status == 200
    await app.settle()
    assert refreshes(app) == []
    schedule = await schedule_of(app, team_id=TEAM)
    assert schedule.team_id == TEAM and schedule.next_due_at == due

    app.sim.clear()
    summary = await dispatch_at(app, clock, due)
    assert summary.sent == 1
    assert len(refreshes(app)) == 1
    new = app.sim.token_of(TEAM)
    assert new != old
    assert len(nudges(app.sim)) == 1
    assert set(bearers(app)) == {new}  # the nudge and everything around it
    [row] = await stored_bots(app)
    assert app.ctx.keyring.decrypt(row["bot_token"]) == new and new not in str(row)


async def test_a_refresh_slack_refuses_keeps_the_old_token_and_logs_only_the_error(
    multi_app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    app = multi_app
    expires = await install_rotating(app)
    old = app.sim.token_of(TEAM)
    [before] = await stored_bots(app)
    app.sim.refuse_refresh(TEAM)
    clock.set(expires - timedelta(minutes=30))
    app.sim.clear()
    assert (await app.slack.slash("weekly", team_id=TEAM)).status == 200
    await app.settle()
    # Asked once for the whole command (its answer and its Home refresh), then held off.
    [refused] = app.sim.calls_to("oauth.v2.access")
    assert refused.body["grant_type"] == "refresh_token"
    assert set(bearers(app)) == {old}  # users.info and views.publish with the old token
    [answer] = await app.sim.wait_for("response_url")
    assert "Monday" in answer.body["text"]
    assert await stored_bots(app) == [before]
    lines = [record.getMessage() for record in logs.records]
    assert lines.count(f"refreshing the bot token for {TEAM} failed: invalid_refresh_token") == 1
    refresh_token = app.ctx.keyring.decrypt(before["bot_refresh_token"])
    assert not any(refresh_token in line or old in line for line in lines)

    # Five minutes on, the app asks Slack again.
    clock.advance(REFRESH_HOLD_OFF)
    app.sim.clear()
    await say(app, {"type": "app_home_opened", "user": "U0001", "tab": "home", "team": TEAM})
    assert len(refreshes(app)) == 1 and set(bearers(app)) == {old}
    lines = [record.getMessage() for record in logs.records]
    assert lines.count(f"refreshing the bot token for {TEAM} failed: invalid_refresh_token") == 2


async def test_a_refresh_that_cannot_reach_slack_keeps_the_old_token(
    multi_app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    app = multi_app
    expires = await install_rotating(app)
    old = app.sim.token_of(TEAM)
    app.sim.fail("oauth.v2.access", drop=True, times=10)  # past slack_sdk's own retry
    clock.set(expires - timedelta(minutes=30))
    app.sim.clear()
    assert (await app.slack.slash("weekly", team_id=TEAM)).status == 200
    await app.settle()
    assert refreshes(app) and set(bearers(app)) == {old}
    [answer] = await app.sim.wait_for("response_url")
    assert "Monday" in answer.body["text"]
    [line] = [
        record.getMessage()
        for record in logs.records
        if record.getMessage().startswith(f"refreshing the bot token for {TEAM} failed: ")
    ]
    assert line.endswith(("ServerDisconnectedError", "ClientOSError", "ClientConnectionError"))
