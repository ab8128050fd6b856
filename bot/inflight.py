"""Work still running after Slack got its ack: waited for at shutdown (and by tests)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class InFlight:
    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def track(self, listener: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Wrap a listener so its whole run counts as in-flight work (Bolt sees its arguments)."""

        @functools.wraps(listener)
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            self._running += 1
            self._idle.clear()
            try:
                return await listener(*args, **kwargs)
            finally:
                self._running -= 1
                if self._running == 0:
                    self._idle.set()

        return tracked

    @property
    def running(self) -> int:
        return self._running

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is running; False if `timeout` passed first."""
        await asyncio.sleep(0)  # let listeners scheduled a moment ago start
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
