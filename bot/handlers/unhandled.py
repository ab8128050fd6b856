"""Events and actions we do not act on yet still get a 200, so Slack does not retry them."""

from __future__ import annotations

import re

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.handlers.guard import guard

ANYTHING = re.compile(r".*")


def register(app: AsyncApp) -> None:
    @app.event(ANYTHING)
    @guard
    async def ignore_event() -> None:
        return None  # events are acknowledged by Bolt before listeners run

    @app.action(ANYTHING)
    @guard
    async def ignore_action(ack: AsyncAck) -> None:
        await ack()

    @app.view(ANYTHING)
    @guard
    async def ignore_view(ack: AsyncAck) -> None:
        await ack()
