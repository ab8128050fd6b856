"""Requests first: background work in the web process (the nudge fan-out) gives way to them.

In the one-process deployment the web server and the weekly fan-out share one event loop, and
asyncio runs whatever is ready in turn: a request arriving during a large pass would wait behind
every send that is ready. So while a request is being answered, the fan-out starts no new step
(a Slack call, a claim) until the request has its answer, or `longest_wait` has passed: the pass
never stops for long, and an ack never queues behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

LONGEST_WAIT = 0.05  # seconds a step of background work waits for requests to be answered


class Foreground:
    def __init__(self, longest_wait: float = LONGEST_WAIT) -> None:
        self._answering = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._longest_wait = longest_wait

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Around a request's whole answer."""
        self._answering += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._answering -= 1
            if not self._answering:
                self._quiet.set()

    async def give_way(self) -> None:
        """Before a step of background work: at once when no request is being answered."""
        if not self._answering:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), self._longest_wait)
