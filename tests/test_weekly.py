"""`/leading-tip weekly`, `pause`, `resume`, `stop`: signed requests in, replies and rows out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bot.models import Schedule
from tests.conftest import RunningApp
from tests.helpers import command_reply, schedule_or_none


async def test_weekly_defaults_to_monday_9am_in_the_persons_slack_time_zone(
    app: RunningApp,
) -> None:
    # The clock reads Tuesday 24 November 2026, 9:00 am in Auckland.
    text = await command_reply(app, "weekly")
    assert "Next nudge: Monday 30 November, 9:00 am (Pacific/Auckland)" in text
    schedule = await schedule_or_none(app)
    assert schedule is not None
    assert schedule.next_due_at == datetime(2026, 11, 29, 20, 0, tzinfo=UTC)


async def test_weekly_day_and_time_use_the_time_zone_from_users_info(app: RunningApp) -> None:
    app.sim.add_user("T0001", "U0NY", tz="America/New_York")
    text = await command_reply(app, "weekly tue 8:30", user_id="U0NY")
    assert "Next nudge: Tuesday 24 November, 8:30 am (America/New_York)" in text
    schedule = await schedule_or_none(app, "U0NY")
    assert schedule is not None
    assert schedule.next_due_at == datetime(2026, 11, 24, 13, 30, tzinfo=UTC)
    assert len(app.sim.calls_to("users.info")) == 1


async def test_member_without_a_time_zone_gets_the_workspace_default(app: RunningApp) -> None:
    app.sim.add_user("T0001", "U0NOTZ", tz=None)
    text = await command_reply(app, "weekly friday 2pm", user_id="U0NOTZ")
    assert "Friday 27 November, 2:00 pm (Pacific/Auckland)" in text


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("weekly funday", "“funday”"),
        ("weekly 25:00", "“25:00” isn't a time of day"),
        ("pause -3", "Pause for 1 to 12 weeks"),
        ("pause until 1999-01-01", "Nothing was changed"),
    ],
)
async def test_invalid_schedule_words_get_a_correction_and_change_nothing(
    app: RunningApp, words: str, expected: str
) -> None:
    await command_reply(app, "weekly wed 7:15")
    before = await schedule_or_none(app)
    text = await command_reply(app, words)
    assert expected in text
    assert "Nothing was changed" in text
    after = await schedule_or_none(app)
    assert before is not None and after is not None
    assert (after.weekday, after.local_minutes, after.next_due_at, after.status) == (
        before.weekday,
        before.local_minutes,
        before.next_due_at,
        before.status,
    )


async def test_pause_skips_weeks_and_resume_brings_the_next_slot_back(app: RunningApp) -> None:
    await command_reply(app, "weekly")
    text = await command_reply(app, "pause 2")
    assert "Paused until" in text and "Next nudge: Monday 14 December" in text
    text = await command_reply(app, "resume")
    assert "Next nudge: Monday 30 November, 9:00 am" in text


async def test_pause_until_a_date_includes_that_date_and_the_next_nudge_comes_after_it(
    app: RunningApp,
) -> None:
    await command_reply(app, "weekly mon 9am")
    text = await command_reply(app, "pause until 2027-01-11")
    assert "Paused until 11 January 2027" in text
    assert "Next nudge: Monday 18 January, 9:00 am" in text


async def test_stop_ends_the_nudge_and_says_how_to_start_again(app: RunningApp) -> None:
    await command_reply(app, "weekly")
    text = await command_reply(app, "stop")
    assert "Stopped" in text and "/leading-tip weekly" in text
    schedule = await schedule_or_none(app)
    assert schedule is not None
    assert schedule.status == "stopped" and schedule.next_due_at is None


@pytest.mark.parametrize("word", ["pause", "resume", "stop"])
async def test_schedule_words_without_a_subscription_explain_how_to_subscribe(
    app: RunningApp, word: str
) -> None:
    text = await command_reply(app, word)
    assert "You don't have a weekly nudge" in text and "/leading-tip weekly" in text


async def test_changing_day_and_time_while_paused_keeps_the_pause(app: RunningApp) -> None:
    await command_reply(app, "weekly")
    await command_reply(app, "pause until 2027-01-11")
    text = await command_reply(app, "weekly wed 7am")
    assert "Paused until 11 January 2027." in text
    assert "Next nudge: Wednesday 13 January, 7:00 am" in text


async def test_changing_the_time_keeps_a_fortnightly_rhythm(app: RunningApp) -> None:
    await command_reply(app, "weekly")
    async with app.ctx.sessions() as session, session.begin():
        await session.execute(update(Schedule).values(every_weeks=2))
    text = await command_reply(app, "weekly thu 10am")
    assert "Every second Thursday at 10:00 am" in text
