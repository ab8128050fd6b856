"""App Home, the welcome DM, and admin figures that never show anyone's words."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.models import Member, Schedule
from devkit.slack_sim import view_submission_body
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    action_ids,
    blocks_text,
    dispatch_at,
    dm,
    latest_home,
    message_text,
    open_home,
    press,
    say,
    send_nudge,
    subscribe,
    ts_at,
)


async def test_home_for_someone_not_subscribed_offers_subscribe_and_shows_the_capability(
    app: RunningApp,
) -> None:
    shown = await open_home(app)
    home = blocks_text(shown)
    assert "home_subscribe" in action_ids(shown)
    capability = app.ctx.library.capabilities[0]
    for expected in (
        capability.title,
        capability.purpose,
        *(b.text for b in capability.behaviours),
        "You're not subscribed",
        "Give me a tip",
        "Journal",
        "Quick tips: 0 of 5 seen",
        "Practice ideas: 0 of 6 seen",
        "Blockers: 0 of 3 seen",
        "How it works",
    ):
        assert expected in home, expected


async def test_home_lists_the_commands_and_says_who_may_run_cohort_stats_and_preview(
    app: RunningApp,
) -> None:
    home = blocks_text(await open_home(app)).split("*How it works*")[1]
    assert "Commands: `/leading-tip` `tip`" in home and "`forget` `help`" in home
    assert "For admins and cohort leads: `cohort`" in home
    assert "`stats` shows figures (counts only)" in home and "`preview` sends you" in home
    assert "`focus`" not in home  # one capability: nothing to choose


async def test_home_for_a_subscriber_shows_day_time_zone_next_nudge_and_controls(
    app: RunningApp,
) -> None:
    await subscribe(app, "weekly tue 8:30")
    shown = await open_home(app)
    home = blocks_text(shown)
    assert "Every Tuesday at 8:30 am (Pacific/Auckland)" in home
    assert "Next nudge: Tuesday 24 November, 8:30 am" not in home  # already past at 9:00
    assert "Next nudge: Tuesday 1 December, 8:30 am" in home
    for action in ("home_change", "home_pause", "home_stop"):
        assert action in action_ids(shown)


async def test_home_for_a_paused_subscriber_shows_until_when_and_resume(app: RunningApp) -> None:
    await subscribe(app)
    await subscribe(app, "pause 2")
    shown = await open_home(app)
    assert "Paused until" in blocks_text(shown)
    assert "home_resume" in action_ids(shown) and "home_pause" not in action_ids(shown)


async def test_home_shows_progress_and_only_your_own_latest_three_reflections(
    app: RunningApp, clock: ManualClock
) -> None:
    await send_nudge(app, clock)
    for hour, text in enumerate(["One", "Two", "Three", "Four"], start=1):
        await say(app, dm(f"Reflection {text}", ts_at(DUE + timedelta(hours=hour))))
    await say(app, dm("Not mine", ts_at(DUE), user="U0002", channel="DU0002"))
    home = blocks_text(await open_home(app))
    assert "Reflection Four" in home and "Reflection Two" in home
    assert "Reflection One" not in home and "Not mine" not in home
    assert "Reflections written: 4" in home
    assert "Weeks in a row with a reflection: 1" in home


async def test_welcome_dm_is_sent_on_the_first_home_open_only(app: RunningApp) -> None:
    await open_home(app)
    [welcome] = app.sim.calls_to("chat.postMessage")
    words = welcome.body["blocks"][0]["text"]["text"]
    assert "Kia ora" in words
    assert "Please keep patient details out of your reflections." in words
    assert "home_subscribe" in action_ids(welcome.body["blocks"])
    for _ in range(3):
        await open_home(app)
        assert app.sim.calls_to("chat.postMessage") == []


async def test_messages_tab_open_publishes_nothing(app: RunningApp) -> None:
    await say(app, {"type": "app_home_opened", "user": "U0001", "tab": "messages"})
    assert app.sim.calls_to("views.publish") == []


async def test_change_modal_updates_the_schedule_and_next_due_then_republishes_home(
    app: RunningApp,
) -> None:
    await subscribe(app)
    await open_home(app)
    await press(app, "home_change")
    [opened] = app.sim.calls_to("views.open")
    modal = opened.body["view"]
    assert modal["callback_id"] == "schedule_modal"
    values = {
        "day": {"day_select": {"type": "static_select", "selected_option": {"value": "3"}}},
        "time": {"time_picker": {"type": "timepicker", "selected_time": "14:45"}},
    }
    body = view_submission_body("schedule_modal", values, team_id="T0001", user_id="U0001")
    reply = await app.slack.post(body)
    assert reply.status == 200 and reply.body == ""
    await app.settle()
    async with app.ctx.sessions() as session:
        schedule = await session.scalar(select(Schedule))
    assert schedule is not None
    assert (schedule.weekday, schedule.local_minutes) == (3, 14 * 60 + 45)
    assert schedule.next_due_at == datetime(2026, 11, 26, 1, 45, tzinfo=UTC)  # Thu 2:45 pm NZDT
    assert "Every Thursday at 2:45 pm" in latest_home(app)


@pytest.mark.parametrize(
    ("action", "status", "paused"),
    [("home_pause", "active", True), ("home_stop", "stopped", False)],
)
async def test_home_buttons_change_the_schedule_and_republish(
    app: RunningApp, action: str, status: str, paused: bool
) -> None:
    await subscribe(app)
    await open_home(app)
    await press(app, action)
    async with app.ctx.sessions() as session:
        schedule = await session.scalar(select(Schedule))
    assert schedule is not None and schedule.status == status
    assert (schedule.paused_until is not None) == paused
    assert ("Paused until" in latest_home(app)) == paused


async def test_a_command_republishes_home_for_people_who_have_opened_it(app: RunningApp) -> None:
    await open_home(app)
    app.sim.clear()
    await subscribe(app, "weekly fri 7am")
    await app.settle()
    assert "Every Friday at 7:00 am" in latest_home(app)


async def test_home_is_not_published_for_people_who_never_opened_it(app: RunningApp) -> None:
    await subscribe(app)
    await app.slack.slash("tip")
    await app.settle()
    assert app.sim.calls_to("views.publish") == []


async def test_give_me_a_tip_opens_a_tip(app: RunningApp) -> None:
    await open_home(app)
    await press(app, "home_tip")
    [opened] = app.sim.calls_to("views.open")
    tips = {item.text for item in app.ctx.library.items("tip")}
    assert any(tip in blocks_text(opened.body["view"]["blocks"]) for tip in tips)


# --- admin figures -----------------------------------------------------------------------


async def stats_reply(app: RunningApp, user_id: str = "U0001") -> str:
    app.sim.clear()
    await app.slack.slash("stats", user_id=user_id)
    await app.settle()
    [reply] = app.sim.calls_to("response_url")
    return message_text(reply.body)


async def test_stats_are_refused_politely_to_a_member(app: RunningApp) -> None:
    text = await stats_reply(app)
    assert "for Slack workspace admins and owners" in text
    assert "Subscribers" not in text


async def test_stats_show_counts_to_an_admin_and_never_any_reflection_text(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0001", is_admin=True)
    nudge = await send_nudge(app, clock)
    secret = "The budget meeting with the council went badly"
    await say(app, dm(secret, ts_at(DUE + timedelta(hours=1)), thread_ts=nudge.message_ts))
    clock.set(DUE + timedelta(days=1))
    text = await stats_reply(app)
    assert "Subscribers: *1* (0 paused)" in text
    assert "too few to show (fewer than 5 people" in text
    assert "   1  " in text and "Nudges sent" in text and "Reflections" in text
    # One person: no reflection count for the week and no item list, which would point at them.
    assert app.ctx.library.item(nudge.item_id or "").text not in text
    assert "Too few to show (fewer than 5 people got nudges)." in text
    assert secret not in text and "U0001" not in text and "Test User" not in text
    raw = json.dumps(app.sim.calls_to("response_url")[-1].body, ensure_ascii=False)
    assert secret not in raw and "U0001" not in raw  # not in ids, values or URLs either


async def test_stats_for_users_listed_in_admin_user_ids(app: RunningApp) -> None:
    app.ctx.settings = app.ctx.settings.model_copy(update={"admin_user_ids": "U0009, U0001"})
    assert "Subscribers" in await stats_reply(app)


async def test_reflection_rate_is_shown_from_five_people(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0001", is_admin=True)
    people = [f"U10{i}" for i in range(5)]
    for user in people:
        app.sim.add_user("T0001", user)
        await subscribe(app, user_id=user)
    await dispatch_at(app, clock, DUE)
    for user in people[:2]:
        await say(
            app, dm("A thought.", ts_at(DUE + timedelta(hours=1)), user=user, channel=f"D{user}")
        )
    text = await stats_reply(app)
    assert "40% of nudges got a reflection" in text


async def test_forget_republishes_an_empty_home_without_keeping_the_person(
    app: RunningApp, clock: ManualClock
) -> None:
    await send_nudge(app, clock)
    await say(app, dm("Private words.", ts_at(DUE + timedelta(hours=1))))
    await open_home(app)
    await app.slack.click("forget_confirm", "confirm")
    await app.settle()
    home = latest_home(app)
    assert "You're not subscribed" in home and "Private words." not in home
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Member)) is None


async def test_a_reflection_in_the_dm_republishes_home(app: RunningApp, clock: ManualClock) -> None:
    await open_home(app)
    app.sim.clear()
    await say(app, dm("Fresh thought.", ts_at(DUE)))
    assert "Fresh thought." in latest_home(app) and "Reflections written: 1" in latest_home(app)


async def test_home_shows_times_in_the_members_own_time_zone(app: RunningApp) -> None:
    app.sim.add_user("T0001", "U0001", tz="Europe/London")
    await subscribe(app, "weekly tue 8:30")
    home = blocks_text(await open_home(app))
    assert "Every Tuesday at 8:30 am (Europe/London)" in home
    assert "Next nudge: Tuesday 24 November, 8:30 am (Europe/London)" in home
