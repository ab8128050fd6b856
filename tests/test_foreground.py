"""Requests first: the fan-out's steps wait while a request in the same process is answered."""

from __future__ import annotations

import asyncio

from bot.foreground import Foreground


async def test_background_work_goes_at_once_when_no_request_is_being_answered() -> None:
    foreground = Foreground()
    step = asyncio.ensure_future(foreground.give_way())
    await asyncio.sleep(0)
    assert step.done()


async def test_background_work_waits_until_the_requests_have_their_answers() -> None:
    foreground = Foreground(longest_wait=60)
    with foreground.answering():
        with foreground.answering():
            step = asyncio.ensure_future(foreground.give_way())
            await asyncio.sleep(0)
            assert not step.done()
        await asyncio.sleep(0)
        assert not step.done()  # one request still waits for its answer
    await asyncio.wait_for(step, 1)


async def test_background_work_never_waits_longer_than_its_longest_wait() -> None:
    foreground = Foreground(longest_wait=0.01)
    with foreground.answering():
        await asyncio.wait_for(foreground.give_way(), 1)  # went on while the request was answered


async def test_a_request_that_fails_still_lets_the_background_work_go() -> None:
    foreground = Foreground(longest_wait=60)
    try:
        with foreground.answering():
            raise RuntimeError("the request failed")
    except RuntimeError:
        pass
    await asyncio.wait_for(foreground.give_way(), 1)
