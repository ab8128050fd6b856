"""A workspace's pace: its gap between starts grows after waves of 429s, up to a ceiling, and
shrinks after answers that were not 429s."""

from __future__ import annotations

import time

from bot.services.dispatch.pacing import FIRST_GAP, LONGER, MOST_GAP, Pace, Throttle


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


async def test_a_throttle_spaces_its_starts_evenly_at_its_rate() -> None:
    now = [100.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        now[0] += seconds

    throttle = Throttle(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await throttle.take()
    assert waits == [0.25, 0.25]  # the first at once, then one every quarter second
    now[0] += 10  # a quiet spell earns no burst: the next goes at once, the one after waits
    await throttle.take()
    await throttle.take()
    assert waits == [0.25, 0.25, 0.25]
