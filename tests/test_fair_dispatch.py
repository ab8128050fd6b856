"""Fair fan-out: each workspace sends at its own pace, and one that is slow or rate-limited
holds up no other. Through the real simulator, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from bot.app_context import AppContext
from bot.clock import ManualClock
from bot.config import Settings
from bot.db import sync_url
from bot.models import Delivery, Member
from bot.services.dispatch.claiming import claim_due
from bot.services.dispatch.planning import Away
from bot.services.dispatch.sending import retry_after
from devkit.slack_sim import SlackSimulator
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    dispatcher_with,
    dms_per_channel,
    give_own_token,
    start_dispatch,
)
from tests.seeding import seed_due_members


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Every workspace here has its own install: multi-workspace mode."""
    return settings.model_copy(
        update={
            "slack_bot_token": None,
            "slack_client_id": sim_oauth.CLIENT_ID,
            "slack_client_secret": sim_oauth.CLIENT_SECRET,
        }
    )


async def workspace(
    ctx: AppContext, sim: SlackSimulator, database_url: str, team_id: str, count: int
) -> list[str]:
    """An installed workspace with its own token and `count` members due at DUE."""
    users = seed_due_members(
        database_url, count=count, due=DUE, team_id=team_id, user_prefix=f"U{team_id}x"
    )
    await give_own_token(ctx, sim, team_id)
    for user in users:
        sim.add_user(team_id, user)
    return users


# Row locks across replicas: PostgreSQL only (SQLite has one writer and no row locks).
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def one_dm_each(sim: SlackSimulator, team_id: str, users: list[str]) -> bool:
    counts = dms_per_channel(sim, [f"D{user}" for user in users], team_id=team_id)
    return len(counts) == len(users) and set(counts.values()) == {1}


async def statuses(app: RunningApp) -> Counter[tuple[str, str, str | None]]:
    async with app.ctx.sessions() as session:
        rows = await session.execute(select(Delivery.team_id, Delivery.status, Delivery.error))
        return Counter((row.team_id, row.status, row.error) for row in rows)


# --- claiming ------------------------------------------------------------------------------


async def test_a_claim_smaller_than_the_due_set_reaches_every_workspace_in_turn(
    app: RunningApp, database_url: str
) -> None:
    teams = {
        team: await workspace(app.ctx, app.sim, database_url, team, 5)
        for team in ["TA", "TB", "TC"]
    }
    everyone = {(team, user) for team, users in teams.items() for user in users}

    async def claim(batch: int, **options: object) -> Counter[str]:
        claimed = await claim_due(
            app.ctx.sessions,
            now=DUE,
            batch=batch,
            zones_read=dict.fromkeys(everyone, Away()),
            only_installed=False,
            default_tz="Pacific/Auckland",
            default_region="NZ",
            library=app.ctx.library,
            rng=random.Random(1),
            **options,  # type: ignore[arg-type]
        )
        return Counter(job.team_id for job in claimed.jobs)

    # Seeded workspace by workspace, yet the first six go two to each.
    assert await claim(6) == {"TA": 2, "TB": 2, "TC": 2}
    # At most so many of each, and none of a workspace left out.
    assert await claim(100, per_workspace=2, skip_teams={"TC"}) == {"TA": 2, "TB": 2}
    assert await claim(100) == {"TA": 1, "TB": 1, "TC": 3}


@ON_POSTGRESQL
async def test_a_claim_skips_nudges_another_replica_has_locked_on_postgresql(
    app: RunningApp, database_url: str
) -> None:
    for team in ("TA", "TB"):
        await workspace(app.ctx, app.sim, database_url, team, 3)
    other = create_engine(sync_url(database_url))
    with other.connect() as connection, connection.begin():
        connection.execute(text("SELECT id FROM schedules WHERE team_id = 'TA' FOR UPDATE"))
        claimed = await claim_due(
            app.ctx.sessions,
            now=DUE,
            batch=10,
            zones_read={},
            only_installed=True,
            default_tz="Pacific/Auckland",
            default_region="NZ",
            library=app.ctx.library,
            rng=random.Random(1),
        )
        connection.rollback()
    other.dispose()
    assert {team for team, _, _ in claimed.unread} == {"TB"} and claimed.found == 3


# --- one workspace slow or rate-limited ----------------------------------------------------


async def test_a_workspace_slow_to_answer_holds_up_no_other(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    slow = await workspace(app.ctx, app.sim, database_url, "TA", 6)
    quick = await workspace(app.ctx, app.sim, database_url, "TB", 6)
    held = app.sim.hold("chat.postMessage", team_id="TA")
    small = dispatcher_with(
        app.ctx, clock, batch_size=4, batches_in_flight=2, per_workspace=2, claimed_per_workspace=2
    )
    clock.set(DUE)
    running = asyncio.create_task(small.run_pass())
    # TA has two posts on their way (its limit at once), never answered; TB all six.
    await app.sim.wait_for("chat.postMessage", count=8, timeout=20)
    assert one_dm_each(app.sim, "TB", quick) and not running.done()
    assert sum(dms_per_channel(app.sim, [f"D{u}" for u in slow], team_id="TA").values()) == 2
    held.set()
    summary = await running
    assert (summary.sent, summary.skipped, summary.failed) == (12, 0, 0)
    assert one_dm_each(app.sim, "TA", slow)
    assert await statuses(app) == {("TA", "sent", None): 6, ("TB", "sent", None): 6}


async def test_a_workspace_slow_to_give_zones_holds_up_no_other(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    slow = await workspace(app.ctx, app.sim, database_url, "TA", 3)
    quick = await workspace(app.ctx, app.sim, database_url, "TB", 3)
    held = app.sim.hold("users.info", team_id="TA")
    clock.set(DUE)
    running = asyncio.create_task(dispatcher_with(app.ctx, clock, zone_wait=0.01).run_pass())
    await app.sim.wait_for("chat.postMessage", count=3, timeout=20)
    assert one_dm_each(app.sim, "TB", quick) and not running.done()
    held.set()
    assert (await running).sent == 6
    assert one_dm_each(app.sim, "TA", slow)


async def test_a_rate_limited_workspace_waits_alone_and_its_other_jobs_wait_with_it(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    await workspace(app.ctx, app.sim, database_url, "TA", 3)
    quick = await workspace(app.ctx, app.sim, database_url, "TB", 3)
    app.sim.fail("chat.postMessage", retry_after=1, token="xoxb-test-TA")
    one_slot = dispatcher_with(app.ctx, clock, concurrency=1, per_workspace=1)
    clock.set(DUE)
    summary = await one_slot.run_pass()
    assert (summary.sent, summary.skipped, summary.failed) == (6, 0, 0)
    posts = [(call.team_id, call.failed is None) for call in app.sim.calls_to("chat.postMessage")]
    # One 429 for TA; TB's posts went while TA waited (holding none of the one global slot),
    # and TA's other jobs waited with it instead of each being told to wait.
    assert posts.count(("TA", False)) == 1 and len(posts) == 7
    first_after_wait = posts.index(("TA", True))
    assert [team for team, _ in posts[:first_after_wait]].count("TB") == 3
    assert one_dm_each(app.sim, "TB", quick)


async def test_slack_asking_for_a_long_wait_leaves_that_workspace_to_a_later_pass(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    limited = await workspace(app.ctx, app.sim, database_url, "TA", 4)
    quick = await workspace(app.ctx, app.sim, database_url, "TB", 4)
    app.sim.fail("chat.postMessage", retry_after=120, token="xoxb-test-TA")
    one_slot = dispatcher_with(app.ctx, clock, concurrency=1, per_workspace=1)
    clock.set(DUE)
    summary = await one_slot.run_pass()
    assert (summary.sent, summary.skipped, summary.failed) == (4, 4, 0)
    assert one_dm_each(app.sim, "TB", quick)
    ta_posts = [call for call in app.sim.calls_to("chat.postMessage") if call.team_id == "TA"]
    assert len(ta_posts) == 1  # told once; the others never asked
    assert await statuses(app) == {("TA", "retry", "ratelimited"): 4, ("TB", "sent", None): 4}
    async with app.ctx.sessions() as session:
        attempts = set(await session.scalars(select(Delivery.attempts)))
    assert attempts == {0}  # a wait Slack asked for uses up no attempt
    clock.set(DUE + timedelta(minutes=2))
    assert (await one_slot.run_pass()).sent == 4
    assert one_dm_each(app.sim, "TA", limited)


def test_retry_after_is_read_from_the_header_or_taken_as_one_second() -> None:
    assert retry_after({"Retry-After": "3"}) == 3.0
    assert retry_after({"retry-after": "0"}) == 0.0
    assert retry_after({"Retry-After": "soon"}) == 1.0
    assert retry_after({}) == 1.0


# --- many processes --------------------------------------------------------------------------


@ON_POSTGRESQL
async def test_three_processes_share_rate_limited_workspaces_sending_each_nudge_once(
    database_url: str, ctx: AppContext, sim: SlackSimulator
) -> None:
    teams = {
        team: await workspace(ctx, sim, database_url, team, 40) for team in ["TA", "TB", "TC", "TD"]
    }
    sim.limit_chat_post(per_channel_per_second=1, workspace_per_minute=1200, burst=10)
    keys = ctx.settings.encryption_keys or ""
    processes = [
        await start_dispatch(database_url, sim, DUE, bot_token=None, encryption_keys=keys)
        for _ in range(3)
    ]
    results = await asyncio.gather(*(process.communicate() for process in processes))
    assert all(process.returncode == 0 for process in processes), results
    sent = sum(int(out.decode().split(",")[0].split()[1]) for out, _ in results)
    assert sent == 160
    assert all(one_dm_each(sim, team, users) for team, users in teams.items())
    assert sim.stats["chat_post_limited"] > 0  # they did run into the limits


async def test_a_zone_another_replica_read_in_the_last_minute_is_not_read_again(
    app: RunningApp, clock: ManualClock, database_url: str
) -> None:
    users = await workspace(app.ctx, app.sim, database_url, "TA", 4)
    just_read, read_before = users[:2], users[2:]
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        for user, ago in [(u, 30) for u in just_read] + [(u, 61) for u in read_before]:
            connection.execute(
                update(Member)
                .where(Member.team_id == "TA", Member.user_id == user)
                .values(status_checked_at=DUE - timedelta(seconds=ago))
            )
    engine.dispose()
    clock.set(DUE)
    summary = await app.ctx.dispatcher.run_pass()
    assert summary.sent == 4 and one_dm_each(app.sim, "TA", users)
    read = sorted(call.body["user"] for call in app.sim.calls_to("users.info"))
    assert read == sorted(read_before)
