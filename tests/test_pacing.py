"""A workspace's pace: its gap between starts grows after waves of 429s, up to a ceiling, and
shrinks after answers that were not 429s."""

from __future__ import annotations

import time

from bot.services.dispatch.pacing import FIRST_GAP, LONGER, MOST_GAP, Pace


def test_the_gap_grows_by_waves_of_429s_and_never_past_its_ceiling() -> None:
    pace = Pace(concurrency=8, longest_wait=30)
    assert pace.gap == 0
    started = time.monotonic()
    pace.limited(1, started)
    assert pace.gap == FIRST_GAP
    pace.limited(1, started)  # the same wave (started before the first 429 came back)
    assert pace.gap == FIRST_GAP
    pace.limited(1, time.monotonic())  # the next wave
    assert pace.gap == FIRST_GAP * LONGER
    for _ in range(50):  # another replica's sends keep this workspace at its limit
        pace.limited(1, time.monotonic())
    assert pace.gap == MOST_GAP


def test_answers_shrink_the_gap_to_full_speed_again() -> None:
    pace = Pace(concurrency=8, longest_wait=30)
    pace.limited(1, time.monotonic())
    for _ in range(100):
        pace.answered()
    assert pace.gap == 0
