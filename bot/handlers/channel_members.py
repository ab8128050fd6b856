"""`member_joined_channel` and `member_left_channel`: in a cohort's channel, joining enrols the
person (one DM, the weekly nudge) and leaving stops the nudge the cohort set. Slack sends these
only for channels the app is in; any other channel changes nothing."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import org_of


def _who_where(event: dict[str, Any], body: dict[str, Any]) -> tuple[str, str, str]:
    team_id = body.get("team_id") or event.get("team") or ""
    return team_id, str(event.get("channel") or ""), str(event.get("user") or "")


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.event("member_joined_channel")
    @guard
    @ctx.in_flight.track
    async def member_joined(event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id, channel_id, user_id = _who_where(event, body)
        if not (team_id and channel_id and user_id):
            return
        client = await ctx.client_for(team_id, org_of(body))
        await ctx.cohorts.joined(team_id, channel_id, user_id, client)

    @app.event("member_left_channel")
    @guard
    @ctx.in_flight.track
    async def member_left(event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id, channel_id, user_id = _who_where(event, body)
        if not (team_id and channel_id and user_id):
            return
        await ctx.cohorts.left(team_id, channel_id, user_id)
