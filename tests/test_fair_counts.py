"""Fair turns and truthful counts: kinds take turns in the nudges, figures keep small groups
hidden, and a deleted reflection or a retired item stops counting."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.content import ITEM_KINDS
from bot.models import Delivery, Reflection, SeenItem
from bot.services.insights import WorkspaceFigures
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    blocks_text,
    delete_event,
    deliveries,
    dispatch_at,
    dm,
    nudges,
    open_home,
    press,
    say,
    send_nudge,
    subscribe,
    text_of,
    ts_at,
)

# --- kinds take turns --------------------------------------------------------------------------


async def test_after_ten_tips_on_demand_the_nudges_still_take_turns_among_kinds(
    app: RunningApp, clock: ManualClock
) -> None:
    for _ in range(10):
        await press(app, "home_tip")  # "Give me a tip" on the Home tab
    await subscribe(app)
    weeks = 3 * len(ITEM_KINDS)
    for week in range(weeks):
        await dispatch_at(app, clock, DUE + timedelta(weeks=week))
        delivery = (await deliveries(app))[-1]
        app.sim.clear()
        await app.slack.click("nudge_skip", str(delivery.id))  # answered: no back-off question
        await app.sim.wait_for("response_url")
        await press(app, "home_tip")  # more on demand between nudges changes nothing
    kinds = [d.item_kind for d in await deliveries(app) if d.kind == "nudge"]
    assert len(kinds) == weeks
    # No kind is absent for more than len(ITEM_KINDS) nudges in a row.
    for start in range(weeks - len(ITEM_KINDS) + 1):
        window = kinds[start : start + len(ITEM_KINDS)]
        assert set(window) == set(ITEM_KINDS), kinds


# --- a deleted reflection stops counting -------------------------------------------------------


async def figures(app: RunningApp) -> WorkspaceFigures:
    return await app.ctx.insights.workspace("T0001", ZoneInfo("Pacific/Auckland"))


async def reflect_on(app: RunningApp, nudge: Delivery) -> str:
    ts = ts_at(DUE + timedelta(hours=1))
    await say(app, dm("Tried it with the team.", ts, thread_ts=nudge.message_ts))
    assert (await figures(app)).nudges_reflected == 1
    return ts


async def test_a_reflection_deleted_in_slack_no_longer_counts_or_earns_a_follow_up(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    ts = await reflect_on(app, nudge)
    await say(app, delete_event(ts))
    assert (await figures(app)).nudges_reflected == 0
    await dispatch_at(app, clock, DUE + timedelta(weeks=1))
    assert "Last time you reflected on" not in text_of(nudges(app.sim)[-1])


async def test_reflections_removed_by_retention_no_longer_count_or_earn_a_follow_up(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    await reflect_on(app, nudge)
    clock.set(DUE + timedelta(days=6))
    assert await app.ctx.reflections.delete_older_than(1) == 1
    assert (await figures(app)).nudges_reflected == 0
    await dispatch_at(app, clock, DUE + timedelta(weeks=1))
    assert "Last time you reflected on" not in text_of(nudges(app.sim)[-1])


async def test_a_nudge_waiting_to_retry_loses_its_follow_up_when_the_reflection_goes(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    ts = await reflect_on(app, nudge)
    app.sim.fail("chat.postMessage", status=500, times=1)
    await dispatch_at(app, clock, DUE + timedelta(weeks=1))  # claimed with its follow-up; fails
    waiting = (await deliveries(app))[-1]
    assert (waiting.status, waiting.follow_up_item_id) == ("retry", nudge.item_id)
    await say(app, delete_event(ts))
    assert (await dispatch_at(app, clock, DUE + timedelta(weeks=1, minutes=1))).sent == 1
    assert "Last time you reflected on" not in text_of(nudges(app.sim)[-1])


async def test_deleting_one_of_two_reflections_on_a_nudge_keeps_it_counted(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    first = await reflect_on(app, nudge)
    await say(
        app, dm("And another thought.", ts_at(DUE + timedelta(hours=2)), thread_ts=nudge.message_ts)
    )
    await say(app, delete_event(first))
    assert (await figures(app)).nudges_reflected == 1
    await dispatch_at(app, clock, DUE + timedelta(weeks=1))
    item = app.ctx.library.item(nudge.item_id or "")
    assert f"Last time you reflected on “{item.text}”" in text_of(nudges(app.sim)[-1])


async def test_progress_counts_only_items_that_are_in_the_content_now(app: RunningApp) -> None:
    tips = len(app.ctx.library.items("tip"))
    for _ in range(tips):
        await press(app, "home_tip")
    assert f"Quick tips: {tips} of {tips} seen" in blocks_text(await open_home(app))
    async with app.ctx.sessions() as session, session.begin():
        # One tip seen has since left the content (and a current one was never seen).
        first = await session.scalar(select(SeenItem.id).order_by(SeenItem.id).limit(1))
        await session.execute(
            update(SeenItem).where(SeenItem.id == first).values(item_id="tip-retired-since")
        )
    assert f"Quick tips: {tips - 1} of {tips} seen" in blocks_text(await open_home(app))


# --- the 5-person rule holds for every figure --------------------------------------------------


async def figures_reply(app: RunningApp) -> str:
    app.sim.add_user("T0001", "U0001", is_admin=True)
    app.sim.clear()
    await app.slack.slash("stats")
    await app.settle()
    [reply] = app.sim.calls_to("response_url")
    return text_of(reply.body)


def reflections_in_week(text: str, week: str) -> str:
    """The Reflections column of one week's row in the figures table."""
    [row] = [line for line in text.splitlines() if line.startswith(week)]
    return row.removesuffix("```").split()[-1]


async def nudge_people_and_reflect(
    app: RunningApp, clock: ManualClock, people: list[str], reflecting: int
) -> str:
    for user in people:
        app.sim.add_user("T0001", user)
        await subscribe(app, user_id=user)
    await dispatch_at(app, clock, DUE)  # Monday 30 November in Auckland
    for user in people[:reflecting]:
        when = ts_at(DUE + timedelta(hours=1))
        await say(app, dm("A thought.", when, user=user, channel=f"D{user}"))
    return app.ctx.library.item((await deliveries(app))[0].item_id or "").text


async def test_with_two_people_nudged_no_week_shows_a_reflection_count_or_an_item(
    app: RunningApp, clock: ManualClock
) -> None:
    item = await nudge_people_and_reflect(app, clock, ["U101", "U102"], reflecting=1)
    text = await figures_reply(app)
    assert "too few to show (fewer than 5 people got nudges)" in text
    assert "30 Nov  ████████████████   2" in text  # nudges sent still shows
    assert reflections_in_week(text, "30 Nov") == "–"
    assert "fewer than 5 people got nudges that week" in text
    assert "Too few to show (fewer than 5 people got nudges)." in text
    assert item not in text


async def test_with_five_people_nudged_the_week_shows_reflections_and_the_items(
    app: RunningApp, clock: ManualClock
) -> None:
    people = [f"U10{i}" for i in range(5)]
    await nudge_people_and_reflect(app, clock, people, reflecting=2)
    text = await figures_reply(app)
    assert "40% of nudges got a reflection" in text
    assert reflections_in_week(text, "30 Nov") == "2"
    assert reflections_in_week(text, "23 Nov") == "–"  # nobody was nudged that week
    async with app.ctx.sessions() as session:
        reflected = list(await session.scalars(select(Reflection.item_id)))
    for item_id in set(reflected):
        assert app.ctx.library.item(item_id or "").text in text
