"""Home and the schedule replies say when the next nudge really goes, and why it moved (a public
holiday, leave, Do Not Disturb); each person chooses their public-holiday region in Home."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import blocks
from bot.clock import ManualClock
from bot.config import Settings
from bot.models import Member
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    blocks_text,
    command_reply,
    dispatch_at,
    elements,
    latest_home,
    nudges,
    open_home,
    press,
    schedule_of,
    subscribe,
)

# Tuesday 2 February 2027, 9:00 am in Auckland. Waitangi Day, Saturday 6 February, is kept on
# Monday 8 February (observed): a Monday nudge goes on Tuesday 9 February instead.
BEFORE_WAITANGI = datetime(2027, 2, 1, 20, 0, tzinfo=UTC)
WAITANGI_MONDAY = datetime(2027, 2, 7, 20, 0, tzinfo=UTC)  # Monday 8 February, 9:00 am NZDT
WAITANGI_MOVED = datetime(2027, 2, 8, 20, 0, tzinfo=UTC)  # Tuesday 9 February, 9:00 am NZDT
# Monday 9 November 2026, 9:00 am in Auckland. Canterbury Anniversary Day is Friday 13 November.
BEFORE_SHOW_DAY = datetime(2026, 11, 8, 20, 0, tzinfo=UTC)
SHOW_DAY_FRIDAY = datetime(2026, 11, 12, 20, 0, tzinfo=UTC)  # Friday 13 November, 9:00 am NZDT
SHOW_DAY_MOVED = datetime(2026, 11, 15, 20, 0, tzinfo=UTC)  # Monday 16 November, 9:00 am NZDT

WAITANGI_LINE = (
    "Next nudge: Tuesday 9 February, 9:00 am (Pacific/Auckland): "
    "moved from Monday, Waitangi Day (observed)."
)
SHOW_DAY_LINE = (
    "Next nudge: Monday 16 November, 9:00 am (Pacific/Auckland): "
    "moved from Friday, Canterbury Anniversary Day."
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """New Zealand's national holidays for everyone who chose no region (the app's default)."""
    return settings.model_copy(update={"default_holiday_region": "NZ"})


async def choose_region(app: RunningApp, region: str, user_id: str = "U0001") -> None:
    """A choice in the Home tab's public-holiday menu, as Slack sends it."""
    app.sim.clear()
    await press(
        app, blocks.HOME_HOLIDAYS_ACTION, region, user_id=user_id, action_type="static_select"
    )


async def region_of(app: RunningApp, user_id: str = "U0001") -> str | None:
    async with app.ctx.sessions() as session:
        return await session.scalar(select(Member.holiday_region).where(Member.user_id == user_id))


def holiday_menu(shown: list[dict]) -> dict:
    [menu] = [e for e in elements(shown) if e["action_id"] == blocks.HOME_HOLIDAYS_ACTION]
    return menu


async def test_home_shows_a_monday_nudge_moved_off_waitangi_day_observed(
    app: RunningApp, clock: ManualClock
) -> None:
    clock.set(BEFORE_WAITANGI)
    await subscribe(app, "weekly")
    assert WAITANGI_LINE in blocks_text(await open_home(app))
    # Shown before it happens: the schedule keeps its Monday slot until the dispatcher holds it.
    assert (await schedule_of(app)).next_due_at == WAITANGI_MONDAY
    await dispatch_at(app, clock, WAITANGI_MONDAY)
    assert nudges(app.sim) == []
    held = await schedule_of(app)
    assert (held.next_due_at, held.moved_why) == (WAITANGI_MOVED, "holiday:Waitangi Day (observed)")
    assert WAITANGI_LINE in blocks_text(await open_home(app))  # the same words, now stored
    await dispatch_at(app, clock, WAITANGI_MOVED)
    assert len(nudges(app.sim)) == 1
    home = blocks_text(await open_home(app))
    assert "Next nudge: Monday 15 February, 9:00 am (Pacific/Auckland)." in home
    assert "moved from" not in home


async def test_weekly_pause_and_resume_replies_explain_the_holiday_move(
    app: RunningApp, clock: ManualClock
) -> None:
    clock.set(BEFORE_WAITANGI)
    text = await command_reply(app, "weekly mon 8:30")
    assert (
        "Next nudge: Tuesday 9 February, 8:30 am (Pacific/Auckland): "
        "moved from Monday, Waitangi Day (observed)."
    ) in text
    assert "moved from" not in await command_reply(app, "pause 1")  # Monday 15 February
    assert "moved from Monday, Waitangi Day (observed)" in await command_reply(app, "resume")


async def test_canterbury_anniversary_moves_a_friday_nudge_only_in_canterbury(
    app: RunningApp, clock: ManualClock
) -> None:
    clock.set(BEFORE_SHOW_DAY)
    for user_id, region in (("U0CAN", "NZ-CAN"), ("U0AUK", "NZ-AUK")):
        app.sim.add_user("T0001", user_id)
        await subscribe(app, "weekly fri 9am", user_id=user_id)
        await open_home(app, user_id=user_id)
        await choose_region(app, region, user_id=user_id)
        assert await region_of(app, user_id) == region
    canterbury = blocks_text(await open_home(app, user_id="U0CAN"))
    assert SHOW_DAY_LINE in canterbury
    auckland = blocks_text(await open_home(app, user_id="U0AUK"))
    assert "Next nudge: Friday 13 November, 9:00 am (Pacific/Auckland)." in auckland
    assert "a public holiday in Auckland" in auckland
    await dispatch_at(app, clock, SHOW_DAY_FRIDAY)
    assert [nudge["channel"] for nudge in nudges(app.sim)] == ["U0AUK"]
    app.sim.clear()
    await dispatch_at(app, clock, SHOW_DAY_MOVED)
    assert [nudge["channel"] for nudge in nudges(app.sim)] == ["U0CAN"]


async def test_choosing_a_region_in_home_saves_it_and_the_next_nudge_moves(
    app: RunningApp, clock: ManualClock
) -> None:
    clock.set(BEFORE_SHOW_DAY)
    await subscribe(app, "weekly fri 9am")
    shown = await open_home(app)
    assert "Next nudge: Friday 13 November, 9:00 am (Pacific/Auckland)." in blocks_text(shown)
    assert "A nudge due on a national public holiday moves to the next working day" in (
        blocks_text(shown)
    )
    menu = holiday_menu(shown)
    assert menu["initial_option"]["value"] == "NZ"  # the default: nobody chose yet
    labels = [option["text"]["text"] for option in menu["options"]]
    assert "Canterbury" in labels and "Manawatū-Whanganui" in labels
    assert labels[-1] == "No public holidays"
    await choose_region(app, "NZ-CAN")
    assert await region_of(app) == "NZ-CAN"
    [published] = app.sim.calls_to("views.publish")
    republished = published.body["view"]["blocks"]
    assert SHOW_DAY_LINE in blocks_text(republished)
    assert "A nudge due on a public holiday in Canterbury moves" in blocks_text(republished)
    assert holiday_menu(republished)["initial_option"]["value"] == "NZ-CAN"
    await choose_region(app, "none")
    assert await region_of(app) == "none"
    home = latest_home(app)
    assert "Next nudge: Friday 13 November, 9:00 am (Pacific/Auckland)." in home
    assert "No public holidays are set, so your nudge keeps to its day." in home


@pytest.mark.parametrize("forged", ["AU-NSW", "NZ-XYZ", "", "<b>NZ-CAN</b>"])
async def test_a_forged_region_changes_nothing_and_home_shows_the_real_one(
    app: RunningApp, clock: ManualClock, logs: pytest.LogCaptureFixture, forged: str
) -> None:
    clock.set(BEFORE_SHOW_DAY)
    await subscribe(app, "weekly fri 9am")
    await open_home(app)
    await choose_region(app, "NZ-CAN")
    await choose_region(app, forged)
    assert await region_of(app) == "NZ-CAN"
    [published] = app.sim.calls_to("views.publish")
    assert holiday_menu(published.body["view"]["blocks"])["initial_option"]["value"] == "NZ-CAN"
    assert SHOW_DAY_LINE in latest_home(app)
    assert "named no region it offers" in logs.text
    assert not [record for record in logs.records if record.exc_info]
    if forged:
        assert forged not in logs.text


async def test_a_nudge_held_for_leave_says_so_until_something_else_moves_it(
    app: RunningApp, clock: ManualClock
) -> None:
    # Back on Tuesday 1 December at 10:00 am: the nudge waits for Wednesday at its usual time.
    back = DUE + timedelta(days=1, hours=1)
    app.sim.set_status("T0001", "U0001", emoji=":palm_tree:", expiration=back.timestamp())
    await subscribe(app, "weekly")
    await dispatch_at(app, clock, DUE)
    assert nudges(app.sim) == []
    held = await schedule_of(app)
    assert held.moved_why == "leave" and held.moved_to == held.next_due_at
    line = (
        "Next nudge: Wednesday 2 December, 9:00 am (Pacific/Auckland): "
        "moved from Monday while your Slack status says you're away."
    )
    assert line in blocks_text(await open_home(app))
    # A new day and time sets next_due_at afresh: the stored move no longer holds.
    text = await command_reply(app, "weekly tue 9am")
    assert "Next nudge: Tuesday 1 December, 9:00 am (Pacific/Auckland)." in text
    assert "moved from" not in text and "away" not in text


async def test_a_nudge_waiting_for_do_not_disturb_says_so(
    app: RunningApp, clock: ManualClock
) -> None:
    ends = DUE + timedelta(hours=2)
    app.sim.set_dnd("T0001", "U0001", (DUE - timedelta(hours=9)).timestamp(), ends.timestamp())
    await subscribe(app, "weekly")
    await dispatch_at(app, clock, DUE)
    assert nudges(app.sim) == []
    assert (await schedule_of(app)).moved_why == "dnd"
    line = (
        "Next nudge: Monday 30 November, 11:00 am (Pacific/Auckland): "
        "due at 9:00 am, waiting for Do Not Disturb to end."
    )
    assert line in blocks_text(await open_home(app))
