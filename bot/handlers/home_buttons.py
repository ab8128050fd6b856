"""Buttons on the Home tab (and the welcome DM's Subscribe), its focus and public-holiday menus,
and the day-and-time modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.app_context import AppContext
from bot.handlers.guard import guard
from bot.handlers.payload import (
    clock_time,
    org_of,
    show_modal,
    state_input,
    who,
    whole_number,
)
from bot.replies import journal_page
from bot.schedule_words import WeeklyChoice
from bot.services.cohorts import CannotSeeChannel, NotAllowed, NotInAChannel
from bot.services.focus import UnknownCapability
from bot.services.regions import UnknownRegion
from bot.values import HomeChange

logger = logging.getLogger(__name__)

CHANGES = {
    blocks.HOME_PAUSE_ACTION: HomeChange.PAUSE_A_WEEK,
    blocks.HOME_RESUME_ACTION: HomeChange.RESUME,
    blocks.HOME_STOP_ACTION: HomeChange.STOP,
}


def read_schedule(view: dict[str, Any]) -> WeeklyChoice | None:
    """The day and time chosen in the schedule modal, or None when either can't be read."""
    option = state_input(view, blocks.DAY_BLOCK, blocks.DAY_INPUT).get("selected_option")
    weekday = whole_number(option.get("value"), 6) if isinstance(option, dict) else None
    at = clock_time(state_input(view, blocks.TIME_BLOCK, blocks.TIME_INPUT).get("selected_time"))
    if weekday is None or at is None:
        return None
    return WeeklyChoice(weekday=weekday, local_time=at)


async def start_refusal(
    ctx: AppContext, team_id: str, channel_id: str, user_id: str, client: AsyncWebClient
) -> str | None:
    """Why the channel can't be made a cohort by this person (None: it can)."""
    try:
        await ctx.cohorts.check_start(team_id, channel_id, user_id, client)
    except NotInAChannel:
        return "not_a_channel"
    except NotAllowed:
        return "not_allowed"
    except CannotSeeChannel as error:
        return "missing_scope" if error.missing_scope else "not_in_channel"
    return None


def register(app: AsyncApp, ctx: AppContext) -> None:
    async def open_schedule_modal(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        client = await ctx.client_for(team_id, org_of(body))
        if client is None:
            return
        view = await ctx.subscriptions.view(team_id, user_id, client)
        await show_modal(client, body["trigger_id"], blocks.schedule_modal(view))

    for action_id in (blocks.HOME_CHANGE_ACTION, blocks.HOME_SUBSCRIBE_ACTION):
        app.action(action_id)(guard(ctx.in_flight.track(open_schedule_modal)))

    @app.view(blocks.SCHEDULE_MODAL)
    @guard
    @ctx.in_flight.track
    async def schedule_chosen(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        choice = read_schedule(view)
        if choice is None:
            await ack(
                response_action="errors",
                errors={blocks.TIME_BLOCK: "Choose a day and a time, e.g. Monday at 9:00 am."},
            )
            return
        team_id, user_id = who(body)
        try:
            client = await ctx.client_for(team_id, org_of(body))
            await ctx.subscriptions.subscribe(team_id, user_id, choice, client)
        except Exception:
            logger.exception("saving a schedule from Home failed for %s/%s", team_id, user_id)
            await ack(response_action="errors", errors={blocks.TIME_BLOCK: blocks.NOT_SAVED})
            return
        await ack()  # saved: the modal may close
        await ctx.home.refresh(team_id, user_id, client, always=True)

    @app.action(blocks.HOME_COHORT_ACTION)
    @guard
    @ctx.in_flight.track
    async def open_cohort_modal(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, _ = who(body)
        client = await ctx.client_for(team_id, org_of(body))
        if client is not None:
            await show_modal(client, body["trigger_id"], blocks.cohort_modal())

    @app.view(blocks.COHORT_MODAL)
    @guard
    @ctx.in_flight.track
    async def cohort_chosen(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Refusals show under the channel picker and change nothing; once Slack may close the
        modal, the channel is enrolled and the lead gets the same answer `cohort` gives."""
        channel_id = state_input(view, blocks.CHANNEL_BLOCK, blocks.CHANNEL_INPUT).get(
            "selected_conversation"
        )
        choice = read_schedule(view)
        if not isinstance(channel_id, str) or not channel_id:
            error = blocks.cohort_modal_error("no_channel")
            await ack(response_action="errors", errors={blocks.CHANNEL_BLOCK: error})
            return
        if choice is None:
            error = "Choose a day and a time, e.g. Monday at 9:00 am."
            await ack(response_action="errors", errors={blocks.TIME_BLOCK: error})
            return
        team_id, user_id = who(body)
        client = await ctx.client_for(team_id, org_of(body))
        if client is None:
            await ack(response_action="errors", errors={blocks.CHANNEL_BLOCK: blocks.NOT_SAVED})
            return
        refusal = await start_refusal(ctx, team_id, channel_id, user_id, client)
        if refusal is not None:
            error = blocks.cohort_modal_error(refusal)
            await ack(response_action="errors", errors={blocks.CHANNEL_BLOCK: error})
            return
        await ack()
        settled = await ctx.cohorts.start(team_id, channel_id, user_id, choice, client)
        await client.chat_postMessage(channel=user_id, **blocks.cohort_settled(settled).as_kwargs())
        await ctx.home.refresh(team_id, user_id, client, always=True)

    async def change_schedule(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        change = CHANGES[body["actions"][0]["action_id"]]
        client = await ctx.client_for(team_id, org_of(body))
        await ctx.subscriptions.change_from_home(team_id, user_id, change, client)
        await ctx.home.refresh(team_id, user_id, client, always=True)

    for action_id in CHANGES:
        app.action(action_id)(guard(ctx.in_flight.track(change_schedule)))

    @app.action(blocks.HOME_JOURNAL_ACTION)
    @guard
    @ctx.in_flight.track
    async def journal(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        client = await ctx.client_for(team_id, org_of(body))
        if client is not None:
            message = await journal_page(ctx, team_id, user_id)
            modal = blocks.info_modal("Your journal", message)
            await show_modal(client, body["trigger_id"], modal)

    @app.action(blocks.HOME_LOOK_BACK_ACTION)
    @guard
    @ctx.in_flight.track
    async def look_back(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        value = body["actions"][0].get("value")
        if value not in ("on", "off"):  # not a value we wrote: change nothing
            logger.warning("look-back switch with an unknown value from %s/%s", team_id, user_id)
            return
        client = await ctx.client_for(team_id, org_of(body))
        await ctx.home.switch_look_back(team_id, user_id, value == "on", client)

    @app.action(blocks.HOME_TIP_ACTION)
    @guard
    @ctx.in_flight.track
    async def tip(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        client = await ctx.client_for(team_id, org_of(body))
        if client is None:
            return
        pick = await ctx.rotation.next_item(team_id, user_id, "tip")
        message = blocks.content_item(ctx.library, pick.kind, pick.item)
        await show_modal(client, body["trigger_id"], blocks.info_modal("A quick tip", message))
        await ctx.home.refresh(team_id, user_id, client)

    @app.action(blocks.HOME_FOCUS_ACTION)
    @guard
    @ctx.in_flight.track
    async def focus_chosen(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        client = await ctx.client_for(team_id, org_of(body))
        try:
            await ctx.focus.choose(team_id, user_id, selected(body))
        except UnknownCapability:
            # Only a forged or stale menu gets here: nothing changes, Home shows the real focus.
            logger.info("Home focus menu named no capability for %s/%s", team_id, user_id)
        await ctx.home.refresh(team_id, user_id, client, always=True)

    @app.action(blocks.HOME_HOLIDAYS_ACTION)
    @guard
    @ctx.in_flight.track
    async def holidays_chosen(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        team_id, user_id = who(body)
        client = await ctx.client_for(team_id, org_of(body))
        try:
            await ctx.regions.choose(team_id, user_id, selected(body))
        except UnknownRegion:
            # Only a forged or stale menu gets here: nothing changes, Home shows the real region.
            logger.info("Home holiday menu named no region it offers for %s/%s", team_id, user_id)
        await ctx.home.refresh(team_id, user_id, client, always=True)


def selected(body: dict[str, Any]) -> str:
    """The value of the option chosen in a menu's block action; "" when there is none."""
    option = body["actions"][0].get("selected_option")
    chosen = option.get("value") if isinstance(option, dict) else None
    return chosen if isinstance(chosen, str) else ""
