"""Bolt listeners, one module per command, button or event; `register_listeners` wires them.

Each reads its payload, calls one service (or `bot.replies` for command words), draws with
`bot.blocks`, and answers. No handler imports another; `guard` and `payload` are helpers.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.app_context import AppContext
from bot.handlers import (
    another_button,
    app_home,
    channel_members,
    dm_messages,
    forget,
    home_buttons,
    journal,
    leading_tip,
    nudge_buttons,
    reflect_button,
    unhandled,
    workspace_events,
)


def register_listeners(app: AsyncApp, ctx: AppContext) -> None:
    leading_tip.register(app, ctx)
    another_button.register(app, ctx)
    nudge_buttons.register(app, ctx)
    reflect_button.register(app, ctx)
    journal.register(app, ctx)
    forget.register(app, ctx)
    dm_messages.register(app, ctx)
    app_home.register(app, ctx)
    home_buttons.register(app, ctx)
    workspace_events.register(app, ctx)
    channel_members.register(app, ctx)
    unhandled.register(app)  # last: it matches whatever the others did not
