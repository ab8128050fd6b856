"""Schedule words as typed in `/leading-tip weekly`: signed requests in, replies and rows out."""

from __future__ import annotations

import pytest

from tests.conftest import RunningApp
from tests.helpers import command_reply, schedule_or_none


@pytest.mark.parametrize(
    ("words", "weekday", "minutes", "shown"),
    [
        ("weekly tue midnight", 1, 0, "Every Tuesday at 12:00 am"),
        ("weekly midnight", 0, 0, "Every Monday at 12:00 am"),
        ("weekly wed 12 midnight", 2, 0, "Every Wednesday at 12:00 am"),
        ("weekly fri 12 noon", 4, 12 * 60, "Every Friday at 12:00 pm"),
        ("weekly 12:00 noon thursday", 3, 12 * 60, "Every Thursday at 12:00 pm"),
        ("weekly Tue. 9am", 1, 9 * 60, "Every Tuesday at 9:00 am"),
        ("weekly every Thurs. at noon", 3, 12 * 60, "Every Thursday at 12:00 pm"),
    ],
)
async def test_midnight_twelve_noon_and_a_day_with_a_full_stop_are_understood(
    app: RunningApp, words: str, weekday: int, minutes: int, shown: str
) -> None:
    text = await command_reply(app, words)
    assert shown in text and "Nothing was changed" not in text
    schedule = await schedule_or_none(app)
    assert schedule is not None
    assert (schedule.weekday, schedule.local_minutes) == (weekday, minutes)


@pytest.mark.parametrize(
    ("words", "echoed"),
    [
        ("weekly <!here>", "“&lt;!here&gt;”"),
        ("weekly tue <@U0002>", "“&lt;@U0002&gt;”"),
        ("weekly R&D", "“R&amp;D”"),
        ("weekly 9<pm", "“9&lt;pm”"),
    ],
)
async def test_typed_words_echoed_in_a_correction_are_escaped_for_slack(
    app: RunningApp, words: str, echoed: str
) -> None:
    text = await command_reply(app, words)
    assert echoed in text and "Nothing was changed" in text
    assert "<!here>" not in text and "<@" not in text
    assert await schedule_or_none(app) is None
