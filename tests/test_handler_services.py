"""The rules that used to sit in handlers, now in services: Home, export, nudge buttons, modal."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app_context import AppContext
from bot.clock import ManualClock
from bot.models import Delivery, Reflection, Schedule
from bot.services.reflections import MAX_MODAL_CHARS, ModalReflectionTooLong
from bot.services.subscriptions import (
    FORTNIGHTLY_WEEKS,
    PAUSE_A_MONTH_WEEKS,
    SNOOZE_WEEKS,
    WEEKLY_WEEKS,
)
from bot.values import ExportOutcome, Home, NudgeChoice, ReflectPrompt
from tests.conftest import RunningApp
from tests.faults import refuse_deletes, rename_table
from tests.helpers import DUE, dm, latest_home, open_home, press, say, send_nudge, ts_at

# --- nudge buttons -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "every_weeks", "paused_weeks"),
    [
        (NudgeChoice.SNOOZE, 1, SNOOZE_WEEKS),
        (NudgeChoice.SKIP, 1, None),
        (NudgeChoice.WEEKLY, WEEKLY_WEEKS, None),
        (NudgeChoice.FORTNIGHTLY, FORTNIGHTLY_WEEKS, None),
        (NudgeChoice.PAUSE_A_MONTH, 1, PAUSE_A_MONTH_WEEKS),
    ],
)
async def test_each_nudge_button_is_a_named_rule_in_subscriptions(
    app: RunningApp,
    clock: ManualClock,
    choice: NudgeChoice,
    every_weeks: int,
    paused_weeks: int | None,
) -> None:
    nudge = await send_nudge(app, clock)
    view = await app.ctx.subscriptions.choose_on_nudge("T0001", "U0001", nudge.id, choice)
    assert view.every_weeks == every_weeks
    assert (view.paused_until is not None) == (paused_weeks is not None)
    assert view.next_due_at is not None
    if paused_weeks is not None:  # the next nudge is the first slot after that many weeks
        waited = view.next_due_at - DUE
        assert timedelta(weeks=paused_weeks) <= waited <= timedelta(weeks=paused_weeks + 1)
    assert (SNOOZE_WEEKS, FORTNIGHTLY_WEEKS, PAUSE_A_MONTH_WEEKS) == (1, 2, 4)


# --- the Reflect modal ---------------------------------------------------------------------


async def test_the_modal_limit_is_the_services_named_error_and_nothing_is_saved(
    ctx: AppContext,
) -> None:
    with pytest.raises(ModalReflectionTooLong):
        await ctx.reflections.capture_modal("T0001", "U0001", None, "y" * (MAX_MODAL_CHARS + 1))
    await ctx.reflections.capture_modal("T0001", "U0001", None, "y" * MAX_MODAL_CHARS)
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Reflection)) == 1


async def test_the_reflect_prompt_is_the_persons_own_nudge_and_survives_retired_content(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    library = app.ctx.library
    prompt = await app.ctx.reflections.reflect_prompt("T0001", "U0001", nudge.id, library)
    assert prompt.item is not None and prompt.item.id == nudge.item_id
    assert prompt.question is not None and prompt.question.id == nudge.question_id
    someone_else = await app.ctx.reflections.reflect_prompt("T0001", "U0002", nudge.id, library)
    assert someone_else == ReflectPrompt()
    async with app.ctx.sessions() as session, session.begin():
        await session.execute(update(Delivery).values(item_id="tip-retired-since"))
    retired = await app.ctx.reflections.reflect_prompt("T0001", "U0001", nudge.id, library)
    assert retired.item is None


# --- Home ----------------------------------------------------------------------------------


async def test_home_is_one_plain_value_the_renderer_draws(
    app: RunningApp, clock: ManualClock
) -> None:
    await send_nudge(app, clock)
    for hour, text in enumerate(["One", "Two", "Three", "Four"], start=1):
        await say(app, dm(f"Reflection {text}", ts_at(DUE + timedelta(hours=hour))))
    home = await app.ctx.home.model("T0001", "U0001")
    assert isinstance(home, Home)
    assert [entry.text for entry in home.latest] == [
        "Reflection Four",
        "Reflection Three",
        "Reflection Two",
    ]
    assert home.view.subscribed and home.progress.reflections == 4
    assert (home.zone.key, home.today) == ("Pacific/Auckland", date(2026, 11, 30))
    with pytest.raises(dataclasses.FrozenInstanceError):
        home.today = date(2026, 1, 1)  # type: ignore[misc]


async def test_a_home_button_on_an_out_of_date_home_changes_nothing_and_shows_the_truth(
    app: RunningApp,
) -> None:
    await open_home(app)
    app.sim.clear()
    await press(app, "home_stop")  # nobody is subscribed: the Home was out of date
    assert "You're not subscribed" in latest_home(app)
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Schedule)) is None


async def test_refreshing_home_that_fails_is_logged_and_goes_no_further(
    app: RunningApp, database_url: str, logs: pytest.LogCaptureFixture
) -> None:
    await open_home(app)
    app.sim.clear()
    client = await app.ctx.client_for("T0001")
    with rename_table(database_url, "members"):
        await app.ctx.home.refresh("T0001", "U0001", client)
    assert "refreshing Home failed for T0001/U0001" in logs.text
    assert app.sim.calls_to("views.publish") == []


async def test_forget_that_fails_says_so_and_still_shows_home_to_someone_who_opened_it(
    app: RunningApp, clock: ManualClock, database_url: str, logs: pytest.LogCaptureFixture
) -> None:
    await send_nudge(app, clock)
    await say(app, dm("Kept.", ts_at(DUE + timedelta(hours=1))))
    await open_home(app)
    app.sim.clear()
    with refuse_deletes(database_url, "members"):
        await app.slack.click("forget_confirm", "confirm")
        await app.settle()
    [reply] = app.sim.calls_to("response_url")
    assert "something went wrong on our side and nothing was changed" in reply.body["text"]
    assert "forget failed for T0001/U0001" in logs.text
    assert "Kept." in latest_home(app)  # nothing was deleted, and Home says so


# --- export --------------------------------------------------------------------------------


async def test_export_service_says_what_happened(app: RunningApp, clock: ManualClock) -> None:
    client = await app.ctx.client_for("T0001")
    assert await app.ctx.export.send("T0001", "U0001", client) is ExportOutcome.EMPTY
    await send_nudge(app, clock)
    await say(app, dm("Worth keeping.", ts_at(DUE + timedelta(hours=1))))
    assert await app.ctx.export.send("T0001", "U0001", None) is ExportOutcome.NO_CLIENT
    app.sim.clear()
    assert await app.ctx.export.send("T0001", "U0001", client) is ExportOutcome.SENT
    [opened] = app.sim.calls_to("conversations.open")
    assert opened.body["users"] == "U0001"
    assert app.sim.calls_to("files.completeUploadExternal")
