"""Season summaries: every 12 weeks with 3 or more reflections, one private DM of the person's
own words, sent once however many schedulers run. Reflections come in through signed events
(thread replies to real nudges, or free DMs); the summary is read from what the simulator got."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot import blocks
from bot.app_context import build_context
from bot.clock import ManualClock
from bot.config import Settings
from bot.models import SeasonSummary
from bot.slack_text import escape
from devkit.slack_sim import block_action_body
from scheduler.runner import apply_retention, build_scheduler, send_season_summaries
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    action_ids,
    deliveries,
    dispatch_at,
    dm,
    press,
    say,
    subscribe,
    text_of,
    ts_at,
)

WEEK = timedelta(weeks=1)
SEASON = 12 * WEEK
TITLE = "A look back at your last 12 weeks"
MINE = "Canary-41d0-mine"
THEIRS = "Canary-77b3-theirs"


def wrote(week: int, who: str = MINE) -> str:
    return f"Week {week}: {who} asked the team what gets in their way & <why>."


async def reply_to_nudges(app: RunningApp, clock: ManualClock, weeks: int) -> None:
    """The first `weeks` weekly nudges, each answered in its thread two hours later."""
    await subscribe(app)
    for week in range(weeks):
        await dispatch_at(app, clock, DUE + week * WEEK)
        delivery = (await deliveries(app))[-1]
        when = ts_at(DUE + week * WEEK + timedelta(hours=2))
        await say(app, dm(wrote(week), when, thread_ts=delivery.message_ts))


async def free_dms(
    app: RunningApp, user_id: str, weeks: list[int], who: str, team_id: str = "T0001"
) -> None:
    for week in weeks:
        when = ts_at(DUE + week * WEEK + timedelta(hours=3))
        event = dm(wrote(week, who), when, user=user_id, channel=f"D{user_id}")
        await say(app, event, team_id=team_id)


async def summaries_at(app: RunningApp, clock: ManualClock, instant) -> list[dict]:
    """Run the job at `instant`; the summaries Slack got in that run."""
    clock.set(instant)
    app.sim.clear()
    await send_season_summaries(app.ctx)
    return [c.body for c in app.sim.calls_to("chat.postMessage") if c.body.get("text") == TITLE]


async def stored(app: RunningApp) -> list[SeasonSummary]:
    async with app.ctx.sessions() as session:
        return list(await session.scalars(select(SeasonSummary).order_by(SeasonSummary.id)))


async def test_the_summary_comes_once_per_12_weeks_with_the_persons_weeks_items_and_lines(
    app: RunningApp, clock: ManualClock
) -> None:
    await reply_to_nudges(app, clock, 4)
    first = DUE + timedelta(hours=2)  # the first reflection: the season counts from here
    assert await summaries_at(app, clock, first + SEASON - timedelta(hours=1)) == []
    [summary] = await summaries_at(app, clock, first + SEASON + timedelta(hours=1))
    assert summary["channel"] == "DU0001"
    text = text_of(summary)
    assert "You reflected in 4 weeks of the 12." in text
    item = app.ctx.library.item((await deliveries(app))[0].item_id or "")
    assert item.text[:40] in text  # the items they came back to, by their titles
    for week in (0, 2, 3):  # three lines, each from a different week, spread out
        assert f"You wrote:\n>{escape(wrote(week))}" in text
    assert wrote(1) not in text and escape(wrote(1)) not in text
    assert "said you would" not in text.lower()
    assert await summaries_at(app, clock, first + SEASON + timedelta(hours=2)) == []
    assert await summaries_at(app, clock, first + SEASON + timedelta(days=30)) == []
    # The next season had no reflections: nothing at 24 weeks.
    assert await summaries_at(app, clock, first + 2 * SEASON + timedelta(hours=1)) == []
    assert [(s.season, s.status) for s in await stored(app)] == [(0, "sent")]
    assert await app.ctx.season_summaries.sent_count("T0001") == 1
    # All an admin sees of it: that one was sent.
    figures = await app.ctx.insights.workspace("T0001", ZoneInfo("Pacific/Auckland"))
    assert figures.season_summaries == 1
    shown = text_of(blocks.workspace_figures(app.ctx.library, figures).as_kwargs())
    assert "Season summaries sent: 1." in shown and "Week 0" not in shown


async def test_fewer_than_three_reflections_in_a_season_send_nothing(
    app: RunningApp, clock: ManualClock
) -> None:
    await free_dms(app, "U0001", [0, 5], MINE)
    assert await summaries_at(app, clock, DUE + SEASON + timedelta(days=1)) == []
    assert await stored(app) == []


async def test_each_summary_holds_only_its_own_persons_words_and_never_the_logs(
    app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    app.sim.add_user("T0001", "U0002")
    await free_dms(app, "U0001", [0, 1, 2], MINE)
    await free_dms(app, "U0002", [0, 3, 6], THEIRS)
    sent = await summaries_at(app, clock, DUE + SEASON + timedelta(days=1))
    by_channel = {s["channel"]: text_of(s) for s in sent}
    assert sorted(by_channel) == ["DU0001", "DU0002"]
    assert MINE in by_channel["DU0001"] and THEIRS not in by_channel["DU0001"]
    assert THEIRS in by_channel["DU0002"] and MINE not in by_channel["DU0002"]
    everything_else = [c for c in app.sim.calls if c.body.get("text") != TITLE]
    assert not [c for c in everything_else if MINE in str(c.body) or THEIRS in str(c.body)]
    assert "reflection from T0001/U0001: saved" in logs.text  # the capture saw our logs
    for canary in (MINE, THEIRS):
        assert canary not in logs.text
        assert not [r for r in logs.records if canary in repr(r.args) or canary in repr(r.msg)]


async def test_the_same_user_id_in_another_workspace_gets_only_their_own_summary(
    multi_app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    app = multi_app
    for team in ("T0100", "T0200"):
        assert (await app.slack.install(team)).status == 200
        app.sim.add_user(team, "U0001")
    await free_dms(app, "U0001", [0, 1, 2], MINE, team_id="T0100")
    await free_dms(app, "U0001", [0, 4, 8], THEIRS, team_id="T0200")
    clock.set(DUE + SEASON + timedelta(days=1))
    app.sim.clear()
    await send_season_summaries(app.ctx)
    sent = {
        c.team_id: text_of(c.body)
        for c in app.sim.calls_to("chat.postMessage")
        if c.body.get("text") == TITLE
    }
    assert sorted(sent) == ["T0100", "T0200"]
    assert MINE in sent["T0100"] and THEIRS not in sent["T0100"]
    assert THEIRS in sent["T0200"] and MINE not in sent["T0200"]
    assert MINE not in logs.text and THEIRS not in logs.text


async def test_the_home_switch_stops_the_summary(app: RunningApp, clock: ManualClock) -> None:
    await free_dms(app, "U0001", [0, 1, 2], MINE)
    await press(app, "home_look_back", "off")
    assert await summaries_at(app, clock, DUE + SEASON + timedelta(days=1)) == []
    assert await stored(app) == []


async def test_forget_and_retention_leave_it_nothing_to_draw_on(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0002")
    await free_dms(app, "U0001", [0, 1, 2], MINE)
    await free_dms(app, "U0002", [8, 9, 10], THEIRS)
    clock.set(DUE + SEASON + timedelta(days=1))
    await app.ctx.reflections.forget("T0001", "U0001")
    await apply_retention(app.ctx, 30)  # U0002's, written 2 to 4 weeks before: these stay
    assert await summaries_at(app, clock, DUE + SEASON + timedelta(days=1)) == []
    clock.set(DUE + SEASON + 8 * WEEK)
    await apply_retention(app.ctx, 30)  # now U0002's are past it too
    assert await summaries_at(app, clock, DUE + 8 * WEEK + SEASON + timedelta(days=1)) == []
    assert await stored(app) == []


async def test_two_schedulers_at_the_same_instant_send_one(
    app: RunningApp, clock: ManualClock, settings: Settings
) -> None:
    await free_dms(app, "U0001", [0, 1, 2], MINE)
    clock.set(DUE + SEASON + timedelta(days=1))
    app.sim.clear()
    other = build_context(settings, clock=clock)  # a second scheduler on the same database
    try:
        await asyncio.gather(send_season_summaries(app.ctx), send_season_summaries(other))
    finally:
        await other.close()
    sent = [c for c in app.sim.calls_to("chat.postMessage") if c.body.get("text") == TITLE]
    assert len(sent) == 1
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SeasonSummary)) == 1


async def test_the_export_button_sends_the_whole_journal(
    app: RunningApp, clock: ManualClock
) -> None:
    await free_dms(app, "U0001", [0, 1, 2, 3], MINE)
    [summary] = await summaries_at(app, clock, DUE + SEASON + timedelta(days=1))
    [action] = [a for a in action_ids(summary["blocks"]) if a.startswith("season")]
    body = block_action_body(action, "export", team_id="T0001", user_id="U0001")
    assert (await app.slack.post(body)).status == 200
    await app.settle()
    [content] = [c.decode() for c in app.sim.uploaded_files.values()]
    for week in range(4):  # the whole journal, the line the summary left out too
        assert wrote(week) in content


async def test_a_summary_slack_refuses_or_that_may_have_gone_is_not_sent_again(
    app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture
) -> None:
    app.sim.add_user("T0001", "U0002")
    await free_dms(app, "U0001", [0, 1, 2], MINE)
    await free_dms(app, "U0002", [0, 1, 2], THEIRS)
    app.sim.fail("chat.postMessage", error="channel_not_found", channel="DU0001")
    app.sim.fail("chat.postMessage", drop=True, channel="DU0002")
    clock.set(DUE + SEASON + timedelta(days=1))
    await send_season_summaries(app.ctx)
    assert "season summary for T0001/U0001 failed: channel_not_found" in logs.text
    assert "season summary for T0001/U0002: connection problem" in logs.text
    assert {s.status for s in await stored(app)} == {"failed"}
    assert await summaries_at(app, clock, DUE + SEASON + timedelta(days=2)) == []
    assert MINE not in logs.text and THEIRS not in logs.text


async def test_a_failing_pass_is_logged_and_the_scheduler_carries_on(
    settings: Settings, clock: ManualClock, tmp_path, logs: pytest.LogCaptureFixture
) -> None:
    broken = build_context(
        settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/empty.db"}),
        clock=clock,
    )
    try:
        await send_season_summaries(broken)
    finally:
        await broken.close()
    assert "season summaries failed" in logs.text


async def test_the_scheduler_looks_for_due_summaries_every_hour(app: RunningApp) -> None:
    job = build_scheduler(app.ctx).get_job("season_summaries")
    assert job is not None and job.trigger.interval == timedelta(hours=1)
    assert job.max_instances == 1 and job.misfire_grace_time is None
