"""`leading-bot demo`: the real app against the built-in Slack simulator, printed as a conversation.

Nothing here is canned: each line is a real signed request to the running app and the reply it
sent back (or the call it made to the simulated Slack Web API).
"""

from __future__ import annotations

import logging
import random
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import create_bolt_app
from bot.app_context import AppContext, build_context
from bot.blocks import local_date
from bot.clock import ManualClock
from bot.config import given_settings
from bot.migrate import upgrade
from bot.services.timing import next_send_after
from bot.web import create_web_app
from devkit.driver import SlackDriver
from devkit.local_server import serve_locally
from devkit.slack_sim import DEFAULT_BOT_USER_ID, DEFAULT_TOKEN, SlackSimulator
from devkit.transcript import blocks_to_text, view_to_text
from scheduler.runner import post_cohort_practice

# Every run plays the same conversation: the clock starts at 9:00 am on Tuesday 24 November 2026
# in Auckland, and the items are drawn with a fixed seed, so Aroha's reply always fits her nudge.
START = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
SEED = 2
SIGNING_SECRET = "demo-signing-secret"
TEAM_ID = "T0001"
USER_ID = "U0001"
COHORT_CHANNEL = "C0WARD"
COHORT = {"U0002": "Ben", "U0003": "Mere"}  # Aroha's colleagues in the ward's channel
WIDTH = 88
AUCKLAND = ZoneInfo("Pacific/Auckland")


class Transcript:
    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write

    def heading(self, text: str) -> None:
        self.write(f"\n── {text} " + "─" * max(0, WIDTH - len(text) - 4))

    def person(self, text: str, name: str = "Aroha") -> None:
        self.write(f"\n{name} › {text}")

    def app(self, message: dict[str, Any], note: str) -> None:
        self.write(f"Leading Health ({note}):")
        rendered = blocks_to_text(message.get("blocks"), message.get("text"))
        for line in rendered.splitlines():
            self.write(textwrap.indent(line, "  │ ") if line.strip() else "  │")


async def run_demo(write: Callable[[str], None] = print) -> int:
    logging.getLogger().setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="leading-bot-demo-") as folder:
        database_url = f"sqlite:///{Path(folder) / 'demo.db'}"
        upgrade(database_url)
        # The demo's clock jumps forward to show the weekly nudge; the simulated Slack stamps
        # messages by the same clock.
        clock = ManualClock(START)
        async with SlackSimulator(clock=lambda: clock().timestamp()) as sim:
            # Aroha is also a workspace admin, so the demo can show the figures.
            sim.add_user(TEAM_ID, USER_ID, tz="Pacific/Auckland", real_name="Aroha", is_admin=True)
            # Only what the demo sets: LOG_LEVEL, PORT or DEFAULT_TZ in the shell are not its own.
            settings = given_settings(
                database_url=database_url,
                slack_signing_secret=SIGNING_SECRET,
                slack_bot_token=DEFAULT_TOKEN,
                slack_api_url=sim.base_url,
            )
            ctx = build_context(settings, clock=clock, rng=random.Random(SEED))
            try:
                web_app = create_web_app(ctx, create_bolt_app(ctx))
                async with (
                    serve_locally(web_app) as url,
                    SlackDriver(url, SIGNING_SECRET, sim) as slack,
                ):
                    scene = Scene(Transcript(write), slack, sim, ctx, clock)
                    for act in (
                        _ask,
                        _weekly,
                        _reflect,
                        _home_and_figures,
                        _cohort,
                        _look_back,
                        _away,
                    ):
                        await act(scene)
            finally:
                await ctx.close()
    write("\nThat was the real app answering signed requests from a local Slack simulator.")
    write("Run `make test` for the full suite, or see README.md to connect it to Slack.")
    return 0


@dataclass
class Scene:
    """What every part of the demo plays with."""

    transcript: Transcript
    slack: SlackDriver
    sim: SlackSimulator
    ctx: AppContext
    clock: ManualClock


async def _ask(scene: Scene) -> None:
    scene.transcript.write("Leading Health nudges: a demo against a local Slack simulator")
    scene.transcript.write(
        "(Replies to /leading-tip are ephemeral: only the person who asked sees them.)"
    )
    started = local_date(START, ZoneInfo("Pacific/Auckland"))
    scene.transcript.write(f"(Every run starts at {started}, Auckland time, and plays the same.)")

    scene.transcript.heading("Asking for something to practise")
    for words in ("", "blocker"):
        scene.transcript.person(f"/leading-tip {words}".rstrip())
        reply = await scene.slack.slash(words, team_id=TEAM_ID, user_id=USER_ID)
        scene.transcript.app(reply.json(), "only visible to you")

    scene.transcript.person("[presses “Another blocker”]")
    scene.sim.clear()
    await scene.slack.click("another_item", "blocker", team_id=TEAM_ID, user_id=USER_ID)
    for call in await scene.sim.wait_for("response_url"):
        scene.transcript.app(call.body, "replaces the message")

    scene.transcript.heading("Getting help")
    for words in ("help", "weeky"):
        scene.transcript.person(f"/leading-tip {words}")
        reply = await scene.slack.slash(words, team_id=TEAM_ID, user_id=USER_ID)
        scene.transcript.app(reply.json(), "only visible to you")


async def _weekly(scene: Scene) -> None:
    scene.transcript.heading("A weekly nudge")
    scene.sim.clear()
    scene.transcript.person("/leading-tip weekly tue 8:30")
    await scene.slack.slash("weekly tue 8:30", team_id=TEAM_ID, user_id=USER_ID)
    [reply] = await scene.sim.wait_for("response_url")
    scene.transcript.app(reply.body, "only visible to you")

    view = await scene.ctx.subscriptions.view(TEAM_ID, USER_ID)
    assert view.next_due_at is not None
    scene.clock.set(view.next_due_at)
    scene.transcript.write(f"\n[the clock moves on to {view.next_due_at:%Y-%m-%d %H:%M} UTC]")
    scene.sim.clear()
    summary = await scene.ctx.dispatcher.run_pass()
    scene.transcript.write(f"[dispatch pass: {summary.line()}]")
    for call in scene.sim.calls_to("chat.postMessage"):
        scene.transcript.app(call.body, "in your DM")


async def _reflect(scene: Scene) -> None:
    scene.transcript.heading("Reflecting in the DM")
    scene.clock.advance(timedelta(hours=3))
    scene.transcript.write("[three hours later]")
    [nudge] = [m for m in scene.sim.messages(f"D{USER_ID}") if m.get("metadata")]
    first = (
        "I messaged the operations manager at the PHO, who has a role like mine. "
        "We're meeting on Thursday to compare our waitlists."
    )
    reply = scene.sim.add_message(f"D{USER_ID}", user=USER_ID, text=first, thread_ts=nudge["ts"])
    scene.transcript.person(f"(replying in the nudge's thread) {first}")
    event = {
        "type": "message",
        "channel": f"D{USER_ID}",
        "channel_type": "im",
        "user": USER_ID,
        "text": first,
        "ts": reply["ts"],
        "thread_ts": nudge["ts"],
    }
    await scene.slack.post_event(event)
    await scene.ctx.in_flight.wait_idle()
    for call in scene.sim.calls_to("reactions.add"):
        scene.transcript.write(
            f"[Leading Health reacts with :{call.body['name']}: — saved, privately]"
        )

    edited = first + " I'll take our figures, so we start from the same numbers."
    scene.transcript.person(f"(edits the reply) {edited}")
    await scene.slack.post_event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": f"D{USER_ID}",
            "channel_type": "im",
            "ts": reply["ts"][:-1] + "9",
            "message": {**event, "text": edited},
        }
    )
    await scene.ctx.in_flight.wait_idle()

    scene.transcript.person("/leading-tip journal")
    journal = await scene.slack.slash("journal", team_id=TEAM_ID, user_id=USER_ID)
    scene.transcript.app(journal.json(), "only visible to you")


async def _home_and_figures(scene: Scene) -> None:
    scene.transcript.heading("The Home tab")
    scene.sim.clear()
    scene.transcript.person("(opens the app's Home tab for the first time)")
    await scene.slack.post_event({"type": "app_home_opened", "user": USER_ID, "tab": "home"})
    await scene.ctx.in_flight.wait_idle()
    for call in scene.sim.calls_to("views.publish"):
        scene.transcript.write("Leading Health (Home tab):")
        for line in view_to_text(call.body["view"]).splitlines():
            scene.transcript.write(f"  │ {line}" if line.strip() else "  │")
    for call in scene.sim.calls_to("chat.postMessage"):
        scene.transcript.app(call.body, "a one-time welcome in your DM")

    scene.transcript.heading("Figures for a workspace admin")
    scene.sim.clear()
    scene.transcript.person("/leading-tip stats")
    await scene.slack.slash("stats", team_id=TEAM_ID, user_id=USER_ID)
    await scene.ctx.in_flight.wait_idle()
    for call in scene.sim.calls_to("response_url"):
        scene.transcript.app(call.body, "only visible to you")


async def _cohort(scene: Scene) -> None:
    """Aroha makes the ward's channel a cohort: her colleagues each get one DM, and a practice
    idea is posted in the channel on the cohort's day for the group's thread."""
    scene.transcript.heading("A cohort in a channel")
    for user_id, name in COHORT.items():
        scene.sim.add_user(TEAM_ID, user_id, tz="Pacific/Auckland", real_name=name)
    members = [DEFAULT_BOT_USER_ID, USER_ID, *COHORT]
    scene.sim.set_channel_members(TEAM_ID, COHORT_CHANNEL, members)
    for words in ("cohort wed 9am", "cohort practice on", "preview"):
        scene.sim.clear()
        scene.transcript.person(f"(in #ward-leaders) /leading-tip {words}")
        await scene.slack.slash(words, team_id=TEAM_ID, user_id=USER_ID, channel_id=COHORT_CHANNEL)
        await scene.ctx.in_flight.wait_idle()
        [reply] = scene.sim.calls_to("response_url")
        scene.transcript.app(reply.body, "only visible to you")
        if words.startswith("cohort wed"):
            [intro] = [
                c for c in scene.sim.calls_to("chat.postMessage") if c.body["channel"] == "U0002"
            ]
            scene.transcript.app(intro.body, "in Ben's DM; Mere gets the same")

    wednesday_9am = next_send_after(scene.clock(), 2, time(9, 0), AUCKLAND)
    scene.clock.set(wednesday_9am)
    due = wednesday_9am.astimezone(AUCKLAND)
    scene.transcript.write(f"\n[the clock moves on to {local_date(due, AUCKLAND)} in Auckland]")
    scene.sim.clear()
    await post_cohort_practice(scene.ctx)
    [post] = [
        c for c in scene.sim.calls_to("chat.postMessage") if c.body["channel"] == COHORT_CHANNEL
    ]
    scene.transcript.app(post.body, "in #ward-leaders, for everyone there")

    words = "We tried a huddle with the practice nurses this week; it helped."
    [posted] = scene.sim.messages(COHORT_CHANNEL)
    scene.transcript.person(f"(replying in the post's thread) {words}", name="Ben")
    scene.sim.clear()
    ben = scene.sim.add_message(COHORT_CHANNEL, user="U0002", text=words, thread_ts=posted["ts"])
    await scene.slack.post_event(
        {
            "type": "message",
            "channel": COHORT_CHANNEL,
            "channel_type": "channel",
            "user": "U0002",
            "text": words,
            "ts": ben["ts"],
            "thread_ts": posted["ts"],
        }
    )
    await scene.ctx.in_flight.wait_idle()
    entries, _ = await scene.ctx.reflections.page(TEAM_ID, "U0002")
    answered = "answers" if scene.sim.calls else "stays out of the thread"
    kept = "kept as a reflection" if entries else "not kept: the channel's talk is the group's"
    scene.transcript.write(f"[Leading Health {answered}; Ben's reply is {kept}]")


# Aroha's replies to the three nudges between the first and the one that looks back.
BETWEEN = (
    "Thursday went well. We found the same gap in follow-up appointments.",
    "Shared our figures with the team. They had questions I couldn't answer yet.",
    "Quiet week on this one: two people off sick.",
)


async def _reply_in_thread(scene: Scene, text: str) -> None:
    """Aroha replies in the thread of her latest nudge, a little after it came."""
    nudge = [m for m in scene.sim.messages(f"D{USER_ID}") if m.get("metadata")][-1]
    reply = scene.sim.add_message(f"D{USER_ID}", user=USER_ID, text=text, thread_ts=nudge["ts"])
    await scene.slack.post_event(
        {
            "type": "message",
            "channel": f"D{USER_ID}",
            "channel_type": "im",
            "user": USER_ID,
            "text": text,
            "ts": reply["ts"],
            "thread_ts": nudge["ts"],
        }
    )
    await scene.ctx.in_flight.wait_idle()


async def _next_nudge(scene: Scene) -> None:
    view = await scene.ctx.subscriptions.view(TEAM_ID, USER_ID)
    assert view.next_due_at is not None
    scene.clock.set(view.next_due_at)
    scene.sim.clear()
    await scene.ctx.dispatcher.run_pass()


async def _look_back(scene: Scene) -> None:
    scene.transcript.heading("Four weeks on: looking back")
    for text in BETWEEN:
        await _next_nudge(scene)
        scene.clock.advance(timedelta(hours=2))
        await _reply_in_thread(scene, text)
    scene.transcript.write("[three weekly nudges later; Aroha replied to each in its thread]")
    await _next_nudge(scene)
    for call in scene.sim.calls_to("chat.postMessage"):
        if call.body["channel"] in (USER_ID, f"D{USER_ID}"):  # Aroha's, not her cohort's
            scene.transcript.app(call.body, "in your DM")
    scene.clock.advance(timedelta(hours=2))
    answer = (
        "We meet every month now, and our waitlists are shorter. "
        "Next I'd like to bring in the practice nurses."
    )
    scene.transcript.person(f"(replying in the nudge's thread) {answer}")
    await _reply_in_thread(scene, answer)
    if scene.sim.calls_to("reactions.add"):
        scene.transcript.write(
            "[Leading Health reacts with :white_check_mark: — saved privately, "
            "beside what she wrote four weeks ago]"
        )


async def _away(scene: Scene) -> None:
    """Aroha goes on leave: her Slack status says so, and the nudge waits until she is back."""
    scene.transcript.heading("On leave: the nudge waits")
    view = await scene.ctx.subscriptions.view(TEAM_ID, USER_ID)
    assert view.next_due_at is not None
    due = view.next_due_at
    zone = ZoneInfo(view.zone)
    back = datetime.combine(
        due.astimezone(zone).date() + timedelta(days=2), time(17, 0), tzinfo=zone
    )
    scene.sim.set_status(
        TEAM_ID, USER_ID, emoji=":palm_tree:", text="Annual leave", expiration=back.timestamp()
    )
    scene.transcript.write(
        f"[Aroha sets her Slack status: :palm_tree: Annual leave, until {local_date(back, zone)}]"
    )
    scene.clock.set(due)
    scene.sim.clear()
    await scene.ctx.dispatcher.run_pass()
    sent = [
        call
        for call in scene.sim.calls_to("chat.postMessage")
        if call.body["channel"] in (USER_ID, f"D{USER_ID}")
    ]
    scene.transcript.write(
        f"[{local_date(due, zone)}: her nudge is due, and "
        + ("it went anyway]" if sent else "nothing is sent]")
    )
    scene.sim.clear()
    scene.transcript.person("(opens the Home tab)")
    await scene.slack.post_event({"type": "app_home_opened", "user": USER_ID, "tab": "home"})
    await scene.ctx.in_flight.wait_idle()
    for call in scene.sim.calls_to("views.publish"):
        for line in view_to_text(call.body["view"]).splitlines():
            if line.startswith(("Every", "Next nudge")) or "Next nudge" in line:
                scene.transcript.write(f"  │ {line}")
    scene.sim.set_status(TEAM_ID, USER_ID)
    scene.transcript.write("[her leave ends, and Slack clears the status]")
    await _next_nudge(scene)
    when = local_date(scene.clock(), zone)
    for call in scene.sim.calls_to("chat.postMessage"):
        if call.body["channel"] in (USER_ID, f"D{USER_ID}"):
            scene.transcript.app(call.body, f"in your DM, {when}")
