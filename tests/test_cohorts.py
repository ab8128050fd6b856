"""Cohorts: a channel made a cohort enrols its people (one DM each, the weekly nudge at the
cohort's time in their own zone), follows who joins and leaves, ends cleanly, and shows its
leads counts only. Everything through signed requests to the running app and the simulator."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.models import Cohort, CohortLead, Schedule
from bot.services.cohorts import COHORT_ENDED, HOME_FIGURES, LEFT_THE_COHORT
from bot.values import MIN_GROUP
from devkit.slack_sim import (
    DEFAULT_BOT_USER_ID,
    RecordedCall,
    SlackSimulator,
    view_submission_body,
)
from scheduler.runner import purge_uninstalled_workspaces
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    blocks_text,
    command_message,
    command_reply,
    deliveries,
    dispatch_at,
    dm,
    latest_home,
    message_text,
    open_home,
    press,
    say,
    schedule_of,
    subscribe,
    text_of,
    ts_at,
)

TEAM = "C0TEAM"
ZONES = {
    "ULEAD": "Pacific/Auckland",
    "UAROHA": "Pacific/Chatham",
    "UBEN": "Australia/Sydney",
    "UCHEN": "Europe/London",
}


def dms_to(sim: SlackSimulator, user_id: str) -> list[RecordedCall]:
    """Messages the app posted to someone's DM (posted to their user id, as Slack allows)."""
    return [
        call
        for call in sim.calls_to("chat.postMessage")
        if call.body.get("channel") == user_id and call.failed is None
    ]


def posted_in(sim: SlackSimulator, channel: str, team_id: str = "T0001") -> list[object]:
    """Anything the app posted in a channel (a message, a file, a reaction): must stay empty."""
    calls = [
        call
        for call in sim.calls
        if call.method.startswith(("chat.", "files.", "reactions."))
        and channel in (call.body.get("channel"), call.body.get("channel_id"))
    ]
    return [*calls, *sim.messages(channel, team_id=team_id)]


async def schedule_or_none(app: RunningApp, user_id: str, team_id: str = "T0001"):
    async with app.ctx.sessions() as session:
        return await session.scalar(
            select(Schedule).where(Schedule.team_id == team_id, Schedule.user_id == user_id)
        )


async def cohort_row(app: RunningApp, channel: str = TEAM, team_id: str = "T0001") -> Cohort:
    async with app.ctx.sessions() as session:
        cohort = await session.scalar(
            select(Cohort).where(Cohort.team_id == team_id, Cohort.channel_id == channel)
        )
    assert cohort is not None
    return cohort


def at_cohort_time(schedule: Schedule, zone: str, weekday: int, local: time, now: datetime) -> bool:
    """Its next nudge is on that weekday at that local time in `zone`, within the coming week."""
    assert schedule.next_due_at is not None
    local_due = schedule.next_due_at.astimezone(ZoneInfo(zone))
    return (
        local_due.weekday() == weekday
        and local_due.time() == local
        and now < schedule.next_due_at <= now + timedelta(days=7)
    )


async def arrange_channel(app: RunningApp) -> None:
    """Eight in the channel: the app's bot, a lead (a workspace admin), three people in four
    zones, someone who had stopped their nudge, a guest and a deactivated account. One of the
    three (UCHEN) already has a nudge at a day and time of their own."""
    sim = app.sim
    sim.add_user("T0001", "ULEAD", tz=ZONES["ULEAD"], is_admin=True)
    for user in ("UAROHA", "UBEN", "UCHEN"):
        sim.add_user("T0001", user, tz=ZONES[user])
    sim.add_user("T0001", "USTOP")
    sim.add_user("T0001", "UGUEST", is_restricted=True)
    sim.add_user("T0001", "UGONE", deleted=True)
    await subscribe(app, "weekly thu 7:30", user_id="UCHEN")
    await subscribe(app, "weekly", user_id="USTOP")
    assert "Stopped" in await command_reply(app, "stop", user_id="USTOP")
    members = [DEFAULT_BOT_USER_ID, "ULEAD", "UAROHA", "UBEN", "UCHEN", "USTOP", "UGUEST", "UGONE"]
    sim.set_channel_members("T0001", TEAM, members)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """UHEAD is named in ADMIN_USER_IDS (and is no admin in Slack)."""
    return settings.model_copy(update={"admin_user_ids": "UHEAD"})


async def start_cohort(
    app: RunningApp,
    words: str = "cohort tuesday 9am",
    *,
    user_id: str = "ULEAD",
    channel_id: str = TEAM,
) -> str:
    """`/leading-tip <words>` typed in a channel; the words of the answer, once all is done."""
    message = await command_message(app, words, user_id, channel_id=channel_id)
    await app.settle()
    return message_text(message)


async def test_a_channel_of_eight_becomes_a_cohort_each_in_their_own_zone(
    app: RunningApp, clock
) -> None:
    await arrange_channel(app)
    reply = await start_cohort(app)
    assert "This channel is now a cohort" in reply and "Tuesday at 9:00 am" in reply

    now = clock()
    for user in ("ULEAD", "UAROHA", "UBEN"):
        schedule = await schedule_of(app, user)
        assert schedule.status == "active" and schedule.from_cohort
        assert at_cohort_time(schedule, ZONES[user], 1, time(9, 0), now), user
    # Already subscribed: linked to the cohort, keeping their own Thursday 7:30 am.
    chen = await schedule_of(app, "UCHEN")
    assert chen.cohort_id is not None and not chen.from_cohort
    assert (chen.weekday, chen.local_minutes) == (3, 7 * 60 + 30)
    # Had stopped: counted as a member, still stopped.
    stopped = await schedule_of(app, "USTOP")
    assert stopped.status == "stopped" and stopped.next_due_at is None
    # Guests, deactivated accounts and bots: nothing stored at all.
    for user in ("UGUEST", "UGONE", DEFAULT_BOT_USER_ID):
        assert await schedule_or_none(app, user) is None

    # One DM each to the four who get nudges (with the privacy line); none to anyone else.
    for user in ("ULEAD", "UAROHA", "UBEN", "UCHEN"):
        [intro] = dms_to(app.sim, user)
        words = message_text(intro.body)
        assert f"<#{TEAM}>" in words and "only ever see counts, never your words" in words
        assert "Nothing about you is posted in the channel" in words
    assert "stays on the day and time you chose" in message_text(dms_to(app.sim, "UCHEN")[0].body)
    assert "Every Tuesday at 9:00 am" in message_text(dms_to(app.sim, "UBEN")[0].body)
    for user in ("USTOP", "UGUEST", "UGONE", DEFAULT_BOT_USER_ID):
        assert dms_to(app.sim, user) == []
    assert posted_in(app.sim, TEAM) == []

    # Running it again changes nothing and sends no second DM; without a day and time, a
    # live cohort keeps its own.
    assert "already a cohort, with its nudge on Tuesday at 9:00 am" in await start_cohort(app)
    assert "already a cohort" in await start_cohort(app, "cohort")
    assert (await cohort_row(app)).weekday == 1
    assert not any(dms_to(app.sim, user) for user in ZONES)
    async with app.ctx.sessions() as session:
        leads = list(await session.scalars(select(CohortLead.user_id)))
    assert leads == ["ULEAD"]


async def test_without_a_day_and_time_a_cohort_is_on_monday_at_9(app: RunningApp) -> None:
    await arrange_channel(app)
    assert "Monday at 9:00 am" in await start_cohort(app, "cohort")
    cohort = await cohort_row(app)
    assert (cohort.weekday, cohort.local_minutes) == (0, 9 * 60)


async def test_someone_joining_later_is_enrolled_once_and_a_leaver_stops(
    app: RunningApp, clock
) -> None:
    await arrange_channel(app)
    await start_cohort(app)
    app.sim.add_user("T0001", "UDANI", tz="America/Toronto")
    app.sim.add_user("T0001", "UGUEST2", is_ultra_restricted=True)
    app.sim.clear()
    joined = app.sim.join_channel("T0001", TEAM, "UDANI")
    await say(app, joined)
    await say(app, joined)  # Slack delivers it again
    await say(app, app.sim.join_channel("T0001", TEAM, "UGUEST2"))
    dani = await schedule_of(app, "UDANI")
    assert dani.from_cohort and at_cohort_time(dani, "America/Toronto", 1, time(9, 0), clock())
    assert len(dms_to(app.sim, "UDANI")) == 1
    assert await schedule_or_none(app, "UGUEST2") is None and dms_to(app.sim, "UGUEST2") == []

    # Leaving: the nudge the cohort set stops; one chosen before the cohort stays. No DMs.
    app.sim.clear()
    await say(app, app.sim.leave_channel("T0001", TEAM, "UAROHA"))
    await say(app, app.sim.leave_channel("T0001", TEAM, "UCHEN"))
    aroha, chen = await schedule_of(app, "UAROHA"), await schedule_of(app, "UCHEN")
    assert (aroha.status, aroha.ended_reason, aroha.cohort_id) == ("stopped", LEFT_THE_COHORT, None)
    assert aroha.next_due_at is None
    assert (chen.status, chen.cohort_id) == ("active", None) and chen.next_due_at is not None
    assert app.sim.calls_to("chat.postMessage") == []
    assert posted_in(app.sim, TEAM) == []

    # Coming back is consent again: the nudge starts again, with one new introduction.
    await say(app, app.sim.join_channel("T0001", TEAM, "UAROHA"))
    assert (await schedule_of(app, "UAROHA")).status == "active"
    assert len(dms_to(app.sim, "UAROHA")) == 1


async def test_joining_a_channel_that_is_no_cohort_changes_nothing(app: RunningApp) -> None:
    app.sim.add_user("T0001", "UDANI")
    await say(app, app.sim.join_channel("T0001", "C0OTHER", "UDANI"))
    await say(app, app.sim.leave_channel("T0001", "C0OTHER", "UDANI"))
    assert await schedule_or_none(app, "UDANI") is None
    assert app.sim.calls_to("chat.postMessage") == []


async def test_a_member_may_not_start_change_or_end_a_cohort(app: RunningApp) -> None:
    await arrange_channel(app)
    app.sim.clear()
    refused = await start_cohort(app, user_id="UAROHA")
    assert "started and changed by workspace admins and the cohort's leads" in refused
    assert "nothing was changed" in refused
    assert (
        app.sim.calls_to("chat.postMessage") == []
        and app.sim.calls_to("conversations.members") == []
    )
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Cohort)) is None
    await start_cohort(app)
    for words in ("cohort off", "cohort wed 2pm", "cohort lead <@UAROHA|aroha>"):
        assert "started and changed by" in await start_cohort(app, words, user_id="UBEN")
    assert (await cohort_row(app)).ended_at is None


async def test_admin_user_ids_and_named_leads_may_run_a_cohort(app: RunningApp, clock) -> None:
    await arrange_channel(app)
    app.sim.add_user("T0001", "UHEAD")
    assert "now a cohort" in await start_cohort(app, user_id="UHEAD")
    await start_cohort(app)  # ULEAD, a Slack admin, becomes a lead too
    named = await start_cohort(app, "cohort lead <@UAROHA|aroha>")
    assert "<@UAROHA> is now a lead" in named
    # The new lead moves the cohort to Wednesday 2 pm: the nudges the cohort set move too,
    # and the one someone chose stays.
    moved = await start_cohort(app, "cohort wed 2pm", user_id="UAROHA")
    assert "now on Wednesday at 2:00 pm" in moved
    ben = await schedule_of(app, "UBEN")
    assert at_cohort_time(ben, ZONES["UBEN"], 2, time(14, 0), clock())
    assert (await schedule_of(app, "UCHEN")).weekday == 3
    assert "Name one person" in await start_cohort(app, "cohort lead aroha")


async def test_cohort_words_that_cannot_work_say_why_and_change_nothing(
    app: RunningApp,
) -> None:
    await arrange_channel(app)
    in_dm = await start_cohort(app, channel_id="DULEAD")
    assert "in the channel you'd like to make a cohort" in in_dm
    bad = await start_cohort(app, "cohort someday")
    assert "`/leading-tip cohort tue 9am`" in bad and "Nothing was changed" in bad
    assert "isn't a cohort" in await start_cohort(app, "cohort off")
    app.sim.set_channel_members("T0001", "C0NOBOT", ["ULEAD", "UAROHA"])
    assert "/invite @Leading Health" in await start_cohort(app, channel_id="C0NOBOT")
    assert "/invite @Leading Health" in await start_cohort(app, channel_id="C0UNKNOWN")
    app.sim.fail("conversations.members", error="missing_scope")
    assert "reinstall" in await start_cohort(app)
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Cohort)) is None
        assert await session.scalar(select(Schedule).where(Schedule.cohort_id.is_not(None))) is None
    assert app.sim.calls_to("chat.postMessage") == []


async def test_a_joiner_slack_cannot_tell_us_about_is_left_out_and_a_failed_dm_is_no_harm(
    app: RunningApp, logs
) -> None:
    await arrange_channel(app)
    await start_cohort(app)
    app.sim.add_user("T0001", "UDANI")
    app.sim.add_user("T0001", "UEVE")
    app.sim.fail("users.info", error="user_not_found")
    await say(app, app.sim.join_channel("T0001", TEAM, "UDANI"))
    assert await schedule_or_none(app, "UDANI") is None
    app.sim.fail("chat.postMessage", error="channel_not_found")
    await say(app, app.sim.join_channel("T0001", TEAM, "UEVE"))
    assert (await schedule_of(app, "UEVE")).status == "active"  # subscribed, just not told
    assert "cohort DM to T0001/UEVE failed: channel_not_found" in logs.text


async def test_cohort_off_stops_only_the_nudges_the_cohort_set(app: RunningApp) -> None:
    await arrange_channel(app)
    await start_cohort(app)
    await subscribe(app, "weekly fri 7am", user_id="UBEN")  # chooses their own time
    await subscribe(app, "pause 2", user_id="UAROHA")  # pausing keeps it the cohort's
    ended = await start_cohort(app, "cohort off")
    assert "This cohort has ended" in ended
    lead, aroha = await schedule_of(app, "ULEAD"), await schedule_of(app, "UAROHA")
    assert (lead.status, lead.ended_reason) == ("stopped", COHORT_ENDED)
    assert aroha.status == "stopped"
    for user in ("UBEN", "UCHEN"):
        kept = await schedule_of(app, user)
        assert kept.status == "active" and kept.cohort_id is None
    for user in ("ULEAD", "UAROHA"):
        [told] = dms_to(app.sim, user)
        assert "has ended" in message_text(told.body)
    assert not dms_to(app.sim, "UBEN") and not dms_to(app.sim, "UCHEN")
    assert posted_in(app.sim, TEAM) == []
    # Ended: a join changes nothing, and stats here are no longer the cohort's.
    app.sim.add_user("T0001", "UDANI")
    await say(app, app.sim.join_channel("T0001", TEAM, "UDANI"))
    assert await schedule_or_none(app, "UDANI") is None
    # Started again: those it had stopped come back, with a new introduction.
    await start_cohort(app)
    assert (await schedule_of(app, "ULEAD")).status == "active"
    assert (await schedule_of(app, "UDANI")).status == "active"


# --- the lead's figures ----------------------------------------------------------------------


async def reply_in_thread(app: RunningApp, user: str, text: str, minutes: int) -> None:
    [nudge] = [d for d in await deliveries(app) if d.user_id == user]
    assert nudge.message_ts
    ts = ts_at(DUE + timedelta(minutes=minutes))
    await say(app, dm(text, ts, user=user, channel=nudge.channel_id, thread_ts=nudge.message_ts))


async def test_the_leads_figures_count_only_the_cohort_and_hide_small_groups(
    app: RunningApp, clock
) -> None:
    app.sim.add_user("T0001", "ULEAD", is_admin=True)
    people = [f"UP{i}" for i in range(1, 6)]
    for user in [*people, "UOUT"]:
        app.sim.add_user("T0001", user)
    app.sim.set_channel_members("T0001", TEAM, [DEFAULT_BOT_USER_ID, "ULEAD", *people])
    app.sim.set_channel_members("T0001", "C0SMALL", [DEFAULT_BOT_USER_ID, "ULEAD", "UP1"])
    await subscribe(app, "weekly", user_id="UOUT")  # in no cohort: never in its figures
    await start_cohort(app, "cohort monday 9am")
    await dispatch_at(app, clock, DUE)  # Monday 30 November, 9:00 am in Auckland: 7 nudges
    for minutes, user in enumerate(["ULEAD", "UP1", "UP2", "UOUT"], start=1):
        await reply_in_thread(app, user, f"A private thought {minutes}.", minutes)

    figures = message_text(await command_message(app, "stats", "ULEAD", channel_id=TEAM))
    assert f"the cohort in <#{TEAM}>" in figures
    assert "Members: *6*" in figures and "Subscribers: *6* (0 paused)" in figures
    assert "50% of nudges got a reflection" in figures  # 3 of the cohort's 6, not UOUT's
    assert "Since the cohort started" in figures and "Items most often reflected on" in figures
    assert "private thought" not in figures
    for user in [*people, "ULEAD"]:
        assert f"<@{user}>" not in figures and user not in figures

    # A member may not see them, and a cohort under MIN_GROUP people shows nothing but that.
    refused = await command_reply(app, "stats", "UP1", channel_id=TEAM)
    assert "for its leads and the workspace's admins" in refused
    await start_cohort(app, "cohort", channel_id="C0SMALL")  # ULEAD and UP1: already in one
    small = message_text(await command_message(app, "stats", "ULEAD", channel_id="C0SMALL"))
    assert f"fewer than {MIN_GROUP} members" in small and "Subscribers" not in small
    # Outside a cohort's channel, admins still get the workspace's figures.
    workspace = message_text(await command_message(app, "stats", "ULEAD", channel_id="C0001"))
    assert "workspace figures" in workspace and "Subscribers: *7*" in workspace


async def test_a_week_with_fewer_than_five_people_nudged_hides_its_reflections(
    app: RunningApp, clock
) -> None:
    app.sim.add_user("T0001", "ULEAD", is_admin=True)
    people = [f"UP{i}" for i in range(1, 6)]
    for user in people:
        app.sim.add_user("T0001", user)
    app.sim.set_channel_members("T0001", TEAM, [DEFAULT_BOT_USER_ID, "ULEAD", *people])
    await start_cohort(app, "cohort monday 9am")
    for user in people[:3]:
        assert "Stopped" in await command_reply(app, "stop", user_id=user)
    await dispatch_at(app, clock, DUE)  # three nudged this week: too few
    await reply_in_thread(app, "ULEAD", "Just mine.", 1)
    figures = message_text(await command_message(app, "stats", "ULEAD", channel_id=TEAM))
    assert "Members: *6*" in figures and "Subscribers: *3*" in figures
    assert "too few to show" in figures and "%" not in figures


async def test_a_leads_home_shows_each_cohorts_figures_as_stats_does_and_hides_small_ones(
    app: RunningApp, clock
) -> None:
    app.sim.add_user("T0001", "ULEAD", is_admin=True)
    people = [f"UP{i}" for i in range(1, 6)]
    for user in people:
        app.sim.add_user("T0001", user)
    app.sim.set_channel_members("T0001", TEAM, [DEFAULT_BOT_USER_ID, "ULEAD", *people])
    app.sim.set_channel_members("T0001", "C0SMALL", [DEFAULT_BOT_USER_ID, "ULEAD", "UP1"])
    await start_cohort(app, "cohort monday 9am")
    await start_cohort(app, "cohort", channel_id="C0SMALL")
    await dispatch_at(app, clock, DUE)
    for minutes, user in enumerate(["ULEAD", "UP1", "UP2"], start=1):
        await reply_in_thread(app, user, f"A private thought {minutes}.", minutes)
    stats = await command_message(app, "stats", "ULEAD", channel_id=TEAM)

    home = blocks_text(await open_home(app, "ULEAD"))
    looked_up = [c for c in app.sim.calls if c.method.startswith(("conversations.", "users."))]
    assert not looked_up  # the figures come from the database alone
    # Cohorts come in channel order: C0SMALL, then C0TEAM.
    small_part, team_part = home.split("*How it works*")[0].split(f"The cohort in <#{TEAM}>")
    assert "The cohort in <#C0SMALL>" in small_part
    assert "Members: *6*" in team_part and "50% of nudges got a reflection" in team_part
    for line in blocks_text(stats["blocks"][2:]).splitlines():  # the same figures as `stats`
        assert line in team_part
    assert f"fewer than {MIN_GROUP} members" in small_part
    assert "Subscribers" not in small_part and "%" not in small_part
    assert "thought 2" not in home and "thought 3" not in home  # members' words: never
    for user in people:
        assert user not in home

    member_home = blocks_text(await open_home(app, "UP1"))
    assert "Cohorts you lead" not in member_home and "Subscribers" not in member_home


async def test_a_lead_of_many_cohorts_sees_the_first_few_in_full_and_the_rest_by_name(
    app: RunningApp,
) -> None:
    app.sim.add_user("T0001", "ULEAD", is_admin=True)
    channels = ["C0A", "C0B", "C0C", "C0D", "C0E"]
    for channel in channels:
        app.sim.set_channel_members("T0001", channel, [DEFAULT_BOT_USER_ID, "ULEAD"])
        await start_cohort(app, "cohort", channel_id=channel)
    blocks = await open_home(app, "ULEAD")
    home = blocks_text(blocks)
    assert home.count("The cohort in <#") == HOME_FIGURES == 3
    assert home.count(f"fewer than {MIN_GROUP} members") == HOME_FIGURES
    assert "Also <#C0D>, <#C0E>: type `/leading-tip stats` in one" in home
    assert len(blocks) <= 100


# --- from the Home tab ----------------------------------------------------------------------


async def submit_cohort_modal(
    app: RunningApp, user_id: str, channel: str | None, day: str = "1", at: str | None = "09:00"
) -> dict:
    """The "Start a cohort" modal, submitted with a channel, a day and a time (None: left empty)."""
    values = {
        "channel": {
            "channel_select": {"type": "conversations_select", "selected_conversation": channel}
        },
        "day": {"day_select": {"type": "static_select", "selected_option": {"value": day}}},
        "time": {"time_picker": {"type": "timepicker", "selected_time": at}},
    }
    reply = await app.slack.post(view_submission_body("cohort_modal", values, user_id=user_id))
    assert reply.status == 200
    await app.settle()
    return reply.json() if reply.body else {}


async def test_an_admin_starts_a_cohort_from_home_as_cohort_in_the_channel_would(
    app: RunningApp,
) -> None:
    await arrange_channel(app)
    app.sim.add_user("T0001", "UHEAD")  # in ADMIN_USER_IDS
    assert "home_cohort" not in str(await open_home(app, "UBEN"))  # a member: no button
    assert "home_cohort" in str(await open_home(app, "UHEAD"))
    app.sim.clear()
    await press(app, "home_cohort", "start", user_id="UHEAD")
    await app.settle()
    [opened] = app.sim.calls_to("views.open")
    modal = opened.body["view"]
    assert modal["callback_id"] == "cohort_modal"
    assert "conversations_select" in str(modal["blocks"])

    app.sim.clear()
    assert await submit_cohort_modal(app, "UHEAD", TEAM, day="1", at="09:00") == {}
    cohort = await cohort_row(app)
    assert (cohort.weekday, cohort.local_minutes) == (1, 9 * 60)
    aroha = await schedule_of(app, "UAROHA")
    assert aroha.cohort_id == cohort.id and aroha.status == "active"
    assert "This channel is now a cohort" in text_of(dms_to(app.sim, "UHEAD")[0].body)
    assert posted_in(app.sim, TEAM) == []
    home = latest_home(app)
    assert f"The cohort in <#{TEAM}>" in home and "Start a cohort" in home  # now a lead


@pytest.mark.parametrize(
    ("user", "channel", "at", "block", "says"),
    [
        ("UBEN", TEAM, "09:00", "channel", "started by workspace admins and cohort leads"),
        ("UHEAD", None, "09:00", "channel", "Choose a channel"),
        ("UHEAD", "DUHEAD", "09:00", "channel", "not a direct message"),
        ("UHEAD", "C0NOBOT", "09:00", "channel", "/invite @Leading Health"),
        ("UHEAD", TEAM, None, "time", "Choose a day and a time"),
        ("UHEAD", TEAM, "09:00", "channel", "reinstall Leading Health"),  # missing_scope
    ],
)
async def test_a_cohort_home_cannot_start_says_why_in_the_modal_and_changes_nothing(
    app: RunningApp, user: str, channel: str | None, at: str | None, block: str, says: str
) -> None:
    await arrange_channel(app)
    app.sim.set_channel_members("T0001", "C0NOBOT", ["UHEAD", "UAROHA"])
    if says.startswith("reinstall"):
        app.sim.fail("conversations.members", error="missing_scope")
    app.sim.clear()
    reply = await submit_cohort_modal(app, user, channel, at=at)
    assert reply["response_action"] == "errors" and says in reply["errors"][block]
    async with app.ctx.sessions() as session:
        assert await session.scalar(select(Cohort)) is None
    assert app.sim.calls_to("chat.postMessage") == []


# --- many workspaces -------------------------------------------------------------------------


async def test_cohorts_in_two_workspaces_never_mix(multi_app: RunningApp) -> None:
    app, sim = multi_app, multi_app.sim
    a, b = "T0100", "T0200"  # the same channel id and person ids in both
    for team in (a, b):
        assert (await app.slack.install(team)).status == 200
        sim.add_user(team, "ULEAD", is_admin=team == a)
        sim.add_user(team, "UAROHA")
        sim.add_user(team, "UBEN")
        sim.set_channel_members(team, TEAM, [f"UBOT{team}", "ULEAD", "UAROHA"])
    text = message_text(await command_message(app, "cohort", "ULEAD", a, channel_id=TEAM))
    await app.settle()
    assert "now a cohort" in text
    assert {call.team_id for call in sim.calls if call.method != "response_url"} == {a}
    assert await schedule_or_none(app, "UAROHA", a) is not None
    assert await schedule_or_none(app, "UAROHA", b) is None

    # The same channel id and person in B: no cohort there, so a join changes nothing in B.
    sim.clear()
    await say(app, sim.join_channel(b, TEAM, "UBEN"), team_id=b)
    assert await schedule_or_none(app, "UBEN", b) is None
    assert await schedule_or_none(app, "UBEN", a) is None
    await say(app, sim.join_channel(a, TEAM, "UBEN"), team_id=a)
    assert (await schedule_or_none(app, "UBEN", a)) is not None
    assert {call.team_id for call in sim.calls} == {a}
    # B's admin-less lead may not end A's cohort by typing in B's channel of the same id.
    refused = await command_reply(app, "cohort off", "ULEAD", b, channel_id=TEAM)
    assert "isn't a cohort" in refused
    assert (await cohort_row(app, team_id=a)).ended_at is None
    # Leaving in B touches nothing in A.
    await say(app, sim.leave_channel(b, TEAM, "UAROHA"), team_id=b)
    assert (await schedule_or_none(app, "UAROHA", a)).status == "active"


async def test_forget_removes_a_leads_role_and_their_place_in_the_cohort(app: RunningApp) -> None:
    await arrange_channel(app)
    await start_cohort(app)
    await start_cohort(app, "cohort lead <@UAROHA|aroha>")
    await app.slack.click("forget_confirm", "confirm", user_id="UAROHA")
    await app.settle()
    async with app.ctx.sessions() as session:
        assert list(await session.scalars(select(CohortLead.user_id))) == ["ULEAD"]
    assert await schedule_or_none(app, "UAROHA") is None
    assert "started and changed by" in await start_cohort(app, "cohort off", user_id="UAROHA")


async def test_a_purged_workspace_leaves_no_cohort_behind(multi_app: RunningApp, clock) -> None:
    app, sim, team = multi_app, multi_app.sim, "T0100"
    assert (await app.slack.install(team)).status == 200
    sim.add_user(team, "ULEAD", is_admin=True)
    sim.set_channel_members(team, TEAM, [f"UBOT{team}", "ULEAD"])
    await command_message(app, "cohort", "ULEAD", team, channel_id=TEAM)
    await app.settle()
    await say(app, {"type": "app_uninstalled", "team": team})
    clock.set(clock() + timedelta(days=app.ctx.settings.uninstall_purge_days))
    await purge_uninstalled_workspaces(app.ctx)
    async with app.ctx.sessions() as session:
        for model in (Cohort, CohortLead, Schedule):
            assert await session.scalar(select(model).where(model.team_id == team)) is None


async def test_home_names_the_cohort_of_a_members_nudge_and_the_cohorts_a_lead_leads(
    app: RunningApp,
) -> None:
    await arrange_channel(app)
    await start_cohort(app)
    lead_home = blocks_text(await open_home(app, "ULEAD"))
    assert f"Your weekly nudge is part of the cohort in <#{TEAM}>" in lead_home
    assert "Cohorts you lead" in lead_home and f"The cohort in <#{TEAM}>" in lead_home
    member_home = blocks_text(await open_home(app, "UBEN"))
    assert f"part of the cohort in <#{TEAM}>" in member_home
    assert "Cohorts you lead" not in member_home
    assert "part of the cohort" not in blocks_text(await open_home(app, "USTOP"))  # stopped
    await start_cohort(app, "cohort off")
    assert "cohort" not in blocks_text(await open_home(app, "ULEAD")).split("*How it works*")[0]
