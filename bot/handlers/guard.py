"""No exception may leave a listener: Bolt would answer 500, or stall for three seconds.

Bolt runs each listener as a task and polls `ack.response` every 10 ms, for up to three
seconds, to learn what to answer. When a listener raises, Bolt's error path marks the response
500 and, if the listener had already acked, sets `ack.response` back to None. So a listener that
raises within 10 ms of its `ack()` (a bad value parsed right after acking) leaves the request
hanging for the full three seconds, after which Bolt moves on to the next matching listener;
one that raises before acking is answered 500 at once. `guard` catches what escapes, logs it
with its traceback (a bug or a real fault, never expected input), and acks if the listener had
not.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from slack_bolt.context.ack.async_ack import AsyncAck

P = ParamSpec("P")
GUARDED = "__guarded_listener__"

logger = logging.getLogger(__name__)


def guard(listener: Callable[P, Awaitable[None]]) -> Callable[P, Awaitable[None]]:
    """Wrap a listener so nothing it raises reaches Bolt (Bolt still sees its arguments)."""

    @functools.wraps(listener)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await listener(*args, **kwargs)
        except Exception:
            logger.exception("listener %s failed", listener.__name__)
            ack = kwargs.get("ack")
            if isinstance(ack, AsyncAck) and ack.response is None:
                await ack()

    setattr(guarded, GUARDED, True)
    return guarded
