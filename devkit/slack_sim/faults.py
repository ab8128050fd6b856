"""Scripted failures, held answers and chat.postMessage rate limits, made for real over HTTP."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from devkit.slack_sim.state import JsonDict, RecordedCall, Workspace, dm_channel, json_response


@dataclass
class Failure:
    method: str
    remaining: int
    status: int | None
    retry_after: int | None
    error: str | None
    drop: bool
    token: str | None
    channel: str | None

    def matches(self, method: str, token: str | None, body: Mapping[str, Any]) -> bool:
        if self.remaining <= 0 or self.method not in (method, "*"):
            return False
        if self.token is not None and self.token != token:
            return False
        channel = body.get("channel") or body.get("channel_id")
        return self.channel is None or self.channel == channel

    def describe(self) -> str:
        if self.drop:
            return "drop"
        parts = []
        if self.status is not None:
            parts.append(f"status={self.status}")
        if self.retry_after is not None:
            parts.append(f"retry_after={self.retry_after}")
        if self.error is not None:
            parts.append(f"error={self.error}")
        return " ".join(parts)


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float
    tokens: float
    updated: float

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FaultInjection:
    """The simulator's scripting of failures and limits; mixed into ``SlackSimulator``."""

    stats: dict[str, int]

    def __init__(self) -> None:
        self._failures: list[Failure] = []
        self._holds: dict[tuple[str, str | None], asyncio.Event] = {}
        self._channel_rate: float | None = None
        self._workspace_rate: float | None = None
        self._burst: int | None = None
        self._channel_buckets: dict[tuple[str, str], TokenBucket] = {}
        self._workspace_buckets: dict[str, TokenBucket] = {}

    def fail(
        self,
        method: str,
        *,
        times: int = 1,
        status: int | None = None,
        retry_after: int | None = None,
        error: str | None = None,
        drop: bool = False,
        token: str | None = None,
        channel: str | None = None,
    ) -> None:
        """Script the next ``times`` matching calls (``method="*"`` matches any) to fail.

        ``retry_after`` alone means HTTP 429; ``status=429`` alone sends ``Retry-After: 1``;
        ``error`` alone is an HTTP 200 ``{"ok": false, "error": ...}``; ``drop`` closes the socket.
        """
        if status is None and retry_after is None and error is None and not drop:
            raise ValueError("fail() needs one of status, retry_after, error or drop")
        if retry_after is not None and status is None:
            status = 429
        if status == 429 and retry_after is None:
            retry_after = 1
        self._failures.append(
            Failure(method, times, status, retry_after, error, drop, token, channel)
        )

    def hold(self, method: str, *, team_id: str | None = None) -> asyncio.Event:
        """Answer no call of ``method`` until the returned event is set: each is done (a message
        is stored) but its answer is still on its way, so a test can act in between (races).

        With ``team_id``, only that workspace's calls are held (a slow workspace among others).
        """
        held = self._holds[(method, team_id)] = asyncio.Event()
        return held

    def limit_chat_post(
        self,
        per_channel_per_second: float | None = None,
        workspace_per_minute: int | None = None,
        burst: int | None = None,
    ) -> None:
        """Rate-limit ``chat.postMessage`` with token buckets (all ``None`` switches it off).

        ``burst`` is each bucket's capacity; by default one second's worth of its rate (>= 1).
        """
        self._channel_rate = per_channel_per_second
        self._workspace_rate = workspace_per_minute / 60 if workspace_per_minute else None
        self._burst = burst
        self._channel_buckets.clear()
        self._workspace_buckets.clear()

    async def _wait_if_held(self, method: str, team_id: str) -> None:
        for key in ((method, None), (method, team_id)):
            if (held := self._holds.get(key)) is not None:
                await held.wait()

    def _scripted_failure(
        self, request: web.Request, call: RecordedCall, token: str | None
    ) -> web.StreamResponse | None:
        for failure in self._failures:
            if failure.matches(call.method, token, call.body):
                break
        else:
            return None
        failure.remaining -= 1
        if failure.remaining <= 0:
            self._failures.remove(failure)
        call.failed = failure.describe()
        self.stats["scripted_failures"] += 1
        if failure.drop:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp treats this as a lost client; nothing is sent
        status = failure.status or 200
        default_error = "ratelimited" if status == 429 else "internal_error"
        headers = (
            {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        )
        return json_response(
            {"ok": False, "error": failure.error or default_error}, status=status, headers=headers
        )

    def _chat_post_limited(self, call: RecordedCall, workspace: Workspace) -> web.Response | None:
        """A 429 answer when the post is over its limit, else None (and the post counts)."""
        wait = self._take_chat_post_token(workspace, call.body)
        if not wait:
            self.stats["chat_post_allowed"] += 1
            return None
        call.failed = "ratelimited"
        self.stats["chat_post_limited"] += 1
        return json_response(
            {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(wait)}
        )

    def _take_chat_post_token(self, workspace: Workspace, body: JsonDict) -> int:
        """0 when the post may go ahead (tokens taken), else the Retry-After in seconds."""
        if self._channel_rate is None and self._workspace_rate is None:
            return 0
        now = time.monotonic()
        buckets: list[TokenBucket] = []
        if self._channel_rate:
            key = (workspace.team_id, dm_channel(str(body.get("channel", ""))))
            buckets.append(self._bucket(self._channel_buckets, key, self._channel_rate, now))
        if self._workspace_rate:
            buckets.append(
                self._bucket(self._workspace_buckets, workspace.team_id, self._workspace_rate, now)
            )
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return 0

    def _bucket(
        self, buckets: dict[Any, TokenBucket], key: Any, rate: float, now: float
    ) -> TokenBucket:
        bucket = buckets.get(key)
        if bucket is None:
            capacity = float(self._burst) if self._burst is not None else max(1.0, rate)
            bucket = buckets[key] = TokenBucket(rate, capacity, capacity, now)
        return bucket
