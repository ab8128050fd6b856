"""Multi-workspace mode: uninstalling stops sending at once (even mid-pass), the workspace's data
is purged UNINSTALL_PURGE_DAYS later unless the app comes back first, and revoked tokens go."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.app_context import AppContext
from bot.clock import ManualClock
from bot.models import Base, Reflection, Schedule, Workspace, slack_bots
from bot.models import slack_installations as installs
from devkit.slack_sim import event_body
from scheduler.runner import build_scheduler, purge_uninstalled_workspaces
from tests.conftest import RunningApp
from tests.faults import refuse
from tests.helpers import (
    DUE,
    JSON,
    blocks_text,
    deliveries,
    dispatch_at,
    dispatcher_with,
    dm,
    nudge_calls,
    open_home,
    say,
    subscribe,
    ts_at,
)

A, B = "T0100", "T0200"  # two workspaces, each with its own install


async def install(app: RunningApp, *teams: str) -> None:
    """Each team installs the app through the real OAuth round trip, and U0001 subscribes."""
    for team in teams:
        page = await app.slack.install(team)
        assert page.status == 200, page.body
        app.sim.add_user(team, "U0001")
        await subscribe(app, team_id=team)


async def uninstall(app: RunningApp, team: str) -> None:
    await say(app, {"type": "app_uninstalled", "team": team})


def nudged_teams(app: RunningApp) -> list[str | None]:
    return [call.team_id for call in nudge_calls(app.sim)]


async def workspace(app: RunningApp, team: str) -> Workspace | None:
    async with app.ctx.sessions() as session:
        return await session.get(Workspace, team)


async def rows_of(app: RunningApp, team: str) -> dict[str, int]:
    """How many rows each table holds for a workspace (every table with a team_id column)."""
    counts = {}
    async with app.ctx.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if "team_id" in table.c:
                counts[table.name] = await connection.scalar(
                    select(func.count()).select_from(table).where(table.c.team_id == team)
                )
    return counts


# --- stopping at once ------------------------------------------------------------------------


async def test_uninstall_mid_pass_stops_its_nudges_and_not_another_workspaces(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    await install(app, A, B)
    app.sim.add_user(A, "U0002")
    await subscribe(app, user_id="U0002", team_id=A)
    app.sim.clear()
    # A's two nudges claimed and checked, Slack finding no DM by person: their DMs being opened.
    app.sim.fail("chat.postMessage", error="channel_not_found", times=2, token=app.sim.token_of(A))
    held = app.sim.hold("conversations.open")
    clock.set(DUE)
    # Asked afresh before every post (in service, an answer serves a workspace for a second).
    dispatcher = dispatcher_with(app.ctx, clock, installed_fresh=0.0)
    running = asyncio.ensure_future(dispatcher.run_pass())
    await app.sim.wait_for("conversations.open", count=2)
    await uninstall(app, A)  # while the pass is under way
    held.set()
    summary = await running

    assert nudged_teams(app) == [B]
    assert (summary.sent, summary.failed) == (1, 2)
    outcome = sorted((row.team_id, row.status, row.error) for row in await deliveries(app))
    assert outcome == [
        (A, "failed", "workspace_inactive"),
        (A, "failed", "workspace_inactive"),
        (B, "sent", None),
    ]
    gone = await workspace(app, A)
    assert gone is not None and not gone.active and gone.uninstalled_at == DUE
    async with app.ctx.sessions() as session:
        stopped = await session.execute(
            select(Schedule.status, Schedule.ended_reason).where(Schedule.team_id == A)
        )
        assert stopped.all() == [("stopped", "app_uninstalled")] * 2
        # Bolt's built-in listener would have deleted the install: ours does.
        assert await session.scalar(select(func.count()).where(installs.c.team_id == A)) == 0
        assert await session.scalar(select(func.count()).where(slack_bots.c.team_id == A)) == 0
        assert await session.scalar(select(func.count()).where(slack_bots.c.team_id == B)) == 1

    app.sim.clear()
    await dispatch_at(app, clock, DUE + timedelta(weeks=1))
    assert nudged_teams(app) == [B]


async def org_subscribers(app: RunningApp) -> None:
    """An org-wide install in Grid org E0100, and one subscriber in each of two workspaces."""
    page = await app.slack.install("T0101", enterprise_id="E0100", org_wide=True)
    assert page.status == 200, page.body
    app.sim.join_org("T0102", "E0100")
    for team, user in (("T0101", "U0101"), ("T0102", "U0102")):
        app.sim.add_user("E0100", user)  # the org token's users: everyone in the org
        await subscribe(app, user_id=user, team_id=team)


async def uninstall_org(app: RunningApp) -> None:
    """Slack's `app_uninstalled` for the org-wide install (it names the org, and no team)."""
    await say(app, {"type": "app_uninstalled"}, team_id="T0101")


async def test_an_org_wide_uninstall_stops_every_workspace_of_the_org(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    await org_subscribers(app)
    await install(app, B)

    await uninstall_org(app)

    for team in ("T0101", "T0102"):
        stopped = await workspace(app, team)
        assert stopped is not None and stopped.enterprise_id == "E0100"
        assert not stopped.active and stopped.uninstalled_at is not None
    other = await workspace(app, B)
    assert other is not None and other.active and other.uninstalled_at is None
    async with app.ctx.sessions() as session:
        for table in (slack_bots, installs):
            org = select(func.count()).where(table.c.enterprise_id == "E0100")
            assert await session.scalar(org) == 0
    app.sim.clear()
    await dispatch_at(app, clock, DUE)
    assert nudged_teams(app) == [B]


async def test_an_org_wide_reinstall_in_time_reopens_every_workspace_of_the_org(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    await org_subscribers(app)
    await uninstall_org(app)
    clock.set(DUE + timedelta(days=3))
    page = await app.slack.install("T0101", enterprise_id="E0100", org_wide=True)
    assert page.status == 200, page.body
    for team in ("T0101", "T0102"):
        back = await workspace(app, team)
        assert back is not None and back.active and back.uninstalled_at is None
    app.sim.clear()
    await dispatch_at(app, clock, DUE + timedelta(weeks=1))
    assert nudged_teams(app) == []  # each waits for its person's `weekly`
    await subscribe(app, user_id="U0102", team_id="T0102")
    app.sim.clear()
    await dispatch_at(app, clock, DUE + timedelta(weeks=2))
    assert [call.body["channel"] for call in nudge_calls(app.sim)] == ["U0102"]


async def test_an_org_purged_after_uninstall_can_install_again_from_scratch(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    await org_subscribers(app)
    await uninstall_org(app)
    clock.set(DUE + timedelta(days=30))
    await purge_uninstalled_workspaces(app.ctx)
    assert set((await rows_of(app, "T0101")).values()) == {0}

    page = await app.slack.install("T0101", enterprise_id="E0100", org_wide=True)
    assert page.status == 200, page.body
    await subscribe(app, user_id="U0101", team_id="T0101")
    again = await workspace(app, "T0101")
    assert again is not None and again.enterprise_id == "E0100" and again.active
    app.sim.clear()
    await dispatch_at(app, clock, DUE + timedelta(days=35))
    assert [call.body["channel"] for call in nudge_calls(app.sim)] == ["U0101"]


@pytest.mark.parametrize("first", ["app_uninstalled", "tokens_revoked"])
async def test_slacks_pair_of_events_on_uninstall_in_either_order_purges_on_time(
    multi_app: RunningApp, clock: ManualClock, first: str
) -> None:
    app = multi_app
    await install(app, A)
    events = [
        {"type": "app_uninstalled", "team": A},
        {"type": "tokens_revoked", "tokens": {"bot": ["UBOTT0100"]}, "team": A},
    ]
    if first == "tokens_revoked":
        events.reverse()
    for minutes, event in enumerate(events):
        clock.set(DUE + timedelta(minutes=minutes))
        await say(app, event)
    gone = await workspace(app, A)
    assert gone is not None and not gone.active
    uninstalled = DUE if first == "app_uninstalled" else DUE + timedelta(minutes=1)
    assert gone.uninstalled_at == uninstalled
    clock.set(DUE + timedelta(days=30, minutes=1))
    await purge_uninstalled_workspaces(app.ctx)
    assert set((await rows_of(app, A)).values()) == {0}


@pytest.mark.parametrize(
    "event",
    [{"type": "app_uninstalled"}, {"type": "tokens_revoked", "tokens": {"bot": ["UBOTT0100"]}}],
)
async def test_an_event_naming_no_workspace_and_no_org_removes_nothing(
    multi_app: RunningApp, clock: ManualClock, event: dict
) -> None:
    app = multi_app
    await install(app, A)
    body = json.loads(event_body(event, team_id=A))
    body["authorizations"][0]["team_id"] = None  # Bolt then knows no workspace
    assert (await app.slack.post(json.dumps(body), content_type=JSON)).status == 200
    await app.settle()
    kept = await workspace(app, A)
    assert kept is not None and kept.active
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).where(slack_bots.c.team_id == A)) == 1
    app.sim.clear()
    await dispatch_at(app, clock, DUE)
    assert nudged_teams(app) == [A]


# --- purging later, unless reinstalled -------------------------------------------------------


async def test_a_workspace_is_purged_the_set_days_after_uninstall_and_not_a_day_before(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    app.ctx.settings = app.ctx.settings.model_copy(update={"uninstall_purge_days": 7})
    job = build_scheduler(app.ctx).get_job("uninstall_purge")
    assert job is not None and job.trigger.interval == timedelta(days=1)
    await install(app, A, B)
    await dispatch_at(app, clock, DUE)  # a nudge each
    for team in (A, B):
        await say(app, dm("I asked the team first today", ts_at(DUE, 1), team=team))
        await say(app, dm("help", ts_at(DUE, 2), team=team))  # a handled DM command
    before = await rows_of(app, A)
    for table in (
        "members",
        "schedules",
        "deliveries",
        "reflections",
        "seen_items",
        "handled_commands",
    ):
        assert before[table] >= 1, table
    kept = await rows_of(app, B)

    removed_at = DUE + timedelta(hours=1)
    clock.set(removed_at)
    await uninstall(app, A)

    clock.set(removed_at + timedelta(days=6))
    await purge_uninstalled_workspaces(app.ctx)
    assert (await rows_of(app, A))["reflections"] == before["reflections"]

    clock.set(removed_at + timedelta(days=7))
    await purge_uninstalled_workspaces(app.ctx)
    assert set((await rows_of(app, A)).values()) == {0}  # nothing left, not even the workspace
    assert await rows_of(app, B) == kept


async def test_a_purge_that_fails_keeps_everything_and_runs_again_tomorrow(
    multi_app: RunningApp, clock: ManualClock, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = multi_app
    await install(app, A)
    await dispatch_at(app, clock, DUE)
    await say(app, dm("Kept until the purge", ts_at(DUE, 1), team=A))
    await uninstall(app, A)
    clock.set(DUE + timedelta(days=30))
    with refuse(database_url, "reflections", "DELETE"):
        await purge_uninstalled_workspaces(app.ctx)
    assert "purging uninstalled workspaces failed; it runs again tomorrow" in caplog.text
    assert (await rows_of(app, A))["reflections"] == 1  # all or nothing for a workspace

    clock.set(DUE + timedelta(days=31))
    await purge_uninstalled_workspaces(app.ctx)
    assert set((await rows_of(app, A)).values()) == {0}


async def test_a_reinstall_in_time_keeps_the_data_and_nudges_wait_for_weekly_again(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    await install(app, A)
    await dispatch_at(app, clock, DUE)
    await say(app, dm("Small steps this week", ts_at(DUE, 1), team=A))
    await uninstall(app, A)

    clock.set(DUE + timedelta(days=10))
    page = await app.slack.install(A)
    assert page.status == 200, page.body
    back = await workspace(app, A)
    assert back is not None and back.active and back.uninstalled_at is None
    clock.set(DUE + timedelta(days=40))
    await purge_uninstalled_workspaces(app.ctx)
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Reflection)) == 1

    app.sim.clear()
    await dispatch_at(app, clock, DUE + timedelta(weeks=6))
    assert nudged_teams(app) == []  # stopped by the uninstall, still stopped
    words = blocks_text(await open_home(app, team_id=A))
    assert "Nau mai anō, welcome back" in words
    assert "they stay stopped until you subscribe again" in words
    assert "Everything you wrote is still here" in words

    await subscribe(app, team_id=A)
    assert "welcome back" not in blocks_text(await open_home(app, team_id=A))
    app.sim.clear()
    await dispatch_at(app, clock, DUE + timedelta(weeks=7))
    assert nudged_teams(app) == [A]


async def test_no_purge_job_in_single_workspace_mode(ctx: AppContext) -> None:
    assert build_scheduler(ctx).get_job("uninstall_purge") is None


# --- tokens revoked --------------------------------------------------------------------------


async def test_a_revoked_user_token_goes_and_the_bot_keeps_working(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    for team, user in ((A, "U0001"), (A, "U0002"), (B, "U0001")):
        page = await app.slack.install(team, installer=user, user_token=True)
        assert page.status == 200, page.body

    async def user_tokens() -> dict[tuple[str, str], int]:
        async with app.ctx.engine.connect() as connection:
            rows = await connection.execute(
                select(installs.c.team_id, installs.c.user_id, func.count())
                .where(installs.c.user_token.is_not(None))
                .group_by(installs.c.team_id, installs.c.user_id)
            )
            return {(team, user): count for team, user, count in rows}

    assert set(await user_tokens()) == {(A, "U0001"), (A, "U0002"), (B, "U0001")}
    event = {"type": "tokens_revoked", "tokens": {"oauth": ["U0001"]}, "team": A}
    await say(app, event)
    assert set(await user_tokens()) == {(A, "U0002"), (B, "U0001")}

    app.sim.add_user(A, "U0001")
    await subscribe(app, team_id=A)
    app.sim.clear()
    await dispatch_at(app, clock, DUE)
    assert nudged_teams(app) == [A]  # the bot token was never touched


@pytest.mark.parametrize("oauth", ["U0001", [["U0001"]], ["U0001", ""], [{"id": "U0001"}]])
async def test_a_tokens_revoked_event_whose_list_is_not_ids_gets_400_and_removes_nothing(
    multi_app: RunningApp, oauth: object
) -> None:
    app = multi_app
    assert (await app.slack.install(A, user_token=True)).status == 200
    event = {"type": "tokens_revoked", "tokens": {"oauth": oauth}, "team": A}
    reply = await app.slack.post_event(event)
    assert reply.status == 400 and "`oauth` is not a list of Slack ids" in reply.body
    async with app.ctx.sessions() as session:
        held = select(func.count()).where(installs.c.user_token.is_not(None))
        assert await session.scalar(held) == 1


async def test_a_revoked_bot_token_stops_the_workspace_without_purging_it(
    multi_app: RunningApp, clock: ManualClock
) -> None:
    app = multi_app
    await install(app, A, B)
    event = {"type": "tokens_revoked", "tokens": {"bot": ["UBOTT0100"]}, "team": A}
    await say(app, event)
    stopped = await workspace(app, A)
    assert stopped is not None and not stopped.active and stopped.uninstalled_at is None
    assert stopped.deactivated_reason == "tokens_revoked"
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).where(slack_bots.c.team_id == A)) == 0
    app.sim.clear()
    await dispatch_at(app, clock, DUE)
    assert nudged_teams(app) == [B]
    clock.set(DUE + timedelta(days=60))
    await purge_uninstalled_workspaces(app.ctx)
    assert (await rows_of(app, A))["schedules"] == 1
    assert [row.team_id for row in await deliveries(app)] == [B]
