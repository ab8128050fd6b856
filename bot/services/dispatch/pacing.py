"""Pacing: each workspace sends at its own pace, and waits out Slack's Retry-After alone.

Slack limits each workspace on its own (chat.postMessage: about one message a second per
channel, and a cap per workspace with a burst), and does not say what the cap is until a 429
comes back. So a workspace starts at full speed, up to `concurrency` calls at once. Its first
429 pauses that workspace, and only it, for the Retry-After Slack gave; from then on its jobs
start one after another, spaced by a gap learnt as it goes: a little shorter after each answer
that was not a 429, half as long again after a wave of 429s (calls already on their way when
the first came back count once), never longer than MOST_GAP. When the gap has shrunk to nothing,
it is at full speed again.

Replicas sending to one workspace each keep their own pace, and each sees 429s the others
caused; without a ceiling one replica's gap could grow until its last few jobs trickled out long
after the others had finished. Slack lets every workspace post about once a second, so a gap
longer than MOST_GAP never helps: Retry-After still pauses the workspace whenever Slack says so.

Waiting happens here, before a job asks for one of the pass's global slots, so a workspace
that is rate-limited never holds up another. When Slack asks for a longer wait than a pass
will give (`longest_wait`), the job is left for a later pass instead.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

FIRST_GAP = 0.1  # seconds between starts after a workspace's first 429
LONGER = 1.5  # after a wave of 429s
SHORTER = 0.9  # after each answer that was not a 429
NO_GAP = 0.005  # shorter than this: full speed again
MOST_GAP = 1.5  # seconds: the longest gap between starts (Retry-After still pauses)


class Pace:
    """One workspace's pace in one pass."""

    def __init__(self, concurrency: int, longest_wait: float) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._queue = asyncio.Lock()  # one job at a time waits for the next start, in order
        self._longest_wait = longest_wait
        self._resume_at = 0.0  # Slack's Retry-After, as a monotonic instant
        self._gap = 0.0
        self._next_start = 0.0
        self._lengthened_at = -math.inf

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[float | None]:
        """Wait for this workspace's next start; gives the start's monotonic instant, or None
        when Slack asked for a longer wait than `longest_wait` (leave the job for later)."""
        while True:
            async with self._queue:
                waited = await self._wait()
            if not waited:
                yield None
                return
            await self._slots.acquire()
            if time.monotonic() >= self._resume_at:
                break
            self._slots.release()  # Slack said wait while this job waited for a slot
        try:
            yield time.monotonic()
        finally:
            self._slots.release()

    async def _wait(self) -> bool:
        while True:
            now = time.monotonic()
            wait = max(self._resume_at, self._next_start) - now
            if wait > self._longest_wait:
                return False
            if wait <= 0:
                self._next_start = now + self._gap
                return True
            await asyncio.sleep(wait)

    @property
    def gap(self) -> float:
        """Seconds between this workspace's starts now."""
        return self._gap

    def limited(self, retry_after: float, started: float) -> None:
        """Slack answered 429 to a call that started at `started`."""
        now = time.monotonic()
        self._resume_at = max(self._resume_at, now + retry_after)
        if started >= self._lengthened_at:  # the first 429 of its wave
            self._gap = min(MOST_GAP, max(FIRST_GAP, self._gap * LONGER))
            self._lengthened_at = now

    def answered(self) -> None:
        """Slack answered without a 429."""
        self._gap *= SHORTER
        if self._gap < NO_GAP:
            self._gap = 0.0


class Throttle:
    """At most `per_second` starts a second, evenly spaced, across everything that takes one
    (the whole pass, all workspaces): bounds the pass's share of a process it shares."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._spacing = 1 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = -math.inf

    async def take(self) -> None:
        now = self._clock()
        start = max(now, self._next)
        self._next = start + self._spacing
        if start > now:
            await self._sleep(start - now)
