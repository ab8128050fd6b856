"""A property over 30 weeks of one member's life: random subscribes, zone moves, pauses,
resumes, snoozes, skips, and sends that Slack refuses or accepts.

The real Subscriptions and Dispatcher run with a ManualClock on a real SQLite database, against
the Slack simulator; dispatch passes run at every due instant, as the scheduler would.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app_context import AppContext, build_context
from bot.clock import ManualClock
from bot.config import Settings
from bot.models import Delivery, Member, Schedule
from bot.schedule_words import PauseChoice, WeeklyChoice
from devkit.slack_sim import SlackSimulator
from tests.conftest import BOT_TOKEN, ENCRYPTION_KEY, SIGNING_SECRET

TEAM, USER = "T0001", "U0001"
ZONES = (
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
)
HORIZON = timedelta(weeks=30)
LONGEST_GAP = timedelta(days=8)
SHORTEST_GAP = timedelta(hours=12)
RETRY_AFTER = timedelta(minutes=10)  # the scheduler's next pass after a refused send
EXAMPLES = 40

# Times of day include the DST gap and overlap hours of all five zones.
times = st.sampled_from(
    [time(1, 30), time(2, 15), time(2, 30), time(3, 0), time(9, 0), time(21, 45)]
)
quarters = st.integers(1, int(HORIZON / timedelta(minutes=15)))
operations = st.one_of(
    st.tuples(st.just("subscribe"), st.integers(0, 6), times),
    moves := st.tuples(st.just("zone"), st.sampled_from(ZONES), st.booleans()),
    st.tuples(st.just("pause"), st.integers(1, 3)),
    st.tuples(st.just("pause_until"), st.integers(1, 21)),
    st.tuples(st.just("resume")),
    st.tuples(st.just("snooze")),
    st.tuples(st.just("skip")),
    st.tuples(st.just("fail"), st.integers(1, 4)),
)
stories = st.fixed_dictionaries(
    {
        # Any day of 2026, so every zone's clock changes are crossed in some examples.
        "start": st.integers(0, 364).map(
            lambda days: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=days, hours=days % 24)
        ),
        "zone": st.sampled_from(ZONES),
        "weekday": st.integers(0, 6),
        "at": times,
        # (quarter hours after the start, operation); at least one zone change in each story
        "steps": st.lists(st.tuples(quarters, operations), max_size=16),
        "moves": st.lists(st.tuples(quarters, moves), min_size=1, max_size=4),
    }
)


@dataclass
class Life:
    """What happened, and the state the rules depend on, as the story unfolds."""

    sends: list[datetime] = field(default_factory=list)
    # The 8-day clock runs from here; None while the rule does not apply (paused, refused
    # sends, not weekly) until the next nudge that Slack accepts.
    since: datetime | None = None
    moves: int = 0  # zone changes to a different zone
    unreachable: bool = False  # refused sends were scripted and Slack has not accepted one since
    problems: list[str] = field(default_factory=list)


class Story:
    def __init__(self, ctx: AppContext, sim: SlackSimulator, clock: ManualClock) -> None:
        self.ctx, self.sim, self.clock = ctx, sim, clock
        self.life = Life()
        self.last_pass: datetime | None = None

    async def schedule(self) -> tuple[Schedule | None, str | None]:
        async with self.ctx.sessions() as session:
            schedule = await session.scalar(select(Schedule).where(Schedule.user_id == USER))
            tz = await session.scalar(select(Member.tz).where(Member.user_id == USER))
        return schedule, tz

    async def waiting_retry(self) -> bool:
        async with self.ctx.sessions() as session:
            found = await session.scalar(
                select(Delivery.id).where(Delivery.status.in_(("retry", "pending"))).limit(1)
            )
        return found is not None

    async def run_until(self, until: datetime) -> None:
        """Dispatch passes at every due instant up to `until`, and retries soon after."""
        for _ in range(1000):
            schedule, _tz = await self.schedule()
            due = schedule.next_due_at if schedule and schedule.status == "active" else None
            candidates = [instant for instant in (due,) if instant is not None]
            if self.last_pass is not None and await self.waiting_retry():
                candidates.append(self.last_pass + RETRY_AFTER)
            if not candidates or min(candidates) > until:
                break
            self.clock.set(max(min(candidates), self.clock.now))
            await self.dispatch()
        else:
            raise AssertionError("dispatch never caught up")
        self.clock.set(max(until, self.clock.now))

    async def dispatch(self) -> None:
        now = self.clock.now
        before = len(self.sim.calls_to("chat.postMessage"))
        await self.ctx.dispatcher.run_pass()
        self.last_pass = now
        accepted = [
            call
            for call in self.sim.calls_to("chat.postMessage")[before:]
            if call.failed is None and call.body.get("metadata")
        ]
        schedule, tz = await self.schedule()
        assert schedule is not None
        for _call in accepted:
            await self.sent(now, schedule, tz)
        if schedule.every_weeks != 1:
            self.life.since = None

    async def sent(self, now: datetime, schedule: Schedule, tz: str | None) -> None:
        life = self.life
        if life.sends and now - life.sends[-1] < SHORTEST_GAP:
            life.problems.append(f"two nudges {now - life.sends[-1]} apart at {now}")
        zone = self.ctx.zone(tz)
        if (
            schedule.paused_until is not None
            and now.astimezone(zone).date() <= schedule.paused_until
        ):
            life.problems.append(f"a nudge at {now} while paused until {schedule.paused_until}")
        if life.since is not None and now - life.since > LONGEST_GAP:
            life.problems.append(f"{now - life.since} without a nudge before {now}")
        life.sends.append(now)
        life.unreachable = False
        life.since = now if schedule.every_weeks == 1 else None

    async def latest_delivery(self) -> int | None:
        async with self.ctx.sessions() as session:
            return await session.scalar(select(Delivery.id).order_by(Delivery.id.desc()).limit(1))

    async def act(self, operation: tuple) -> None:
        subscriptions, client = self.ctx.subscriptions, await self.ctx.client_for(TEAM)
        name = operation[0]
        life = self.life
        if name == "subscribe":
            choice = WeeklyChoice(weekday=operation[1], local_time=operation[2])
            view = await subscriptions.subscribe(TEAM, USER, choice, client)
            # A new day or time starts the count afresh; a pause it keeps still holds.
            life.since = None if view.paused_until or life.unreachable else self.clock.now
        elif name == "zone":
            _schedule, tz = await self.schedule()
            life.moves += operation[1] != tz
            self.sim.add_user(TEAM, USER, tz=operation[1])
            if operation[2]:  # someone looks at their Home or a reply now; else the dispatcher
                await subscriptions.view(TEAM, USER, client)
        elif name in ("pause", "pause_until"):
            _schedule, tz = await self.schedule()
            today = self.clock.now.astimezone(self.ctx.zone(tz)).date()
            choice = (
                PauseChoice(weeks=operation[1])
                if name == "pause"
                else PauseChoice(until=today + timedelta(days=operation[1]))
            )
            await subscriptions.pause(TEAM, USER, choice, client)
            life.since = None
        elif name == "resume":
            await subscriptions.resume(TEAM, USER, client)
            if life.since is None and not life.unreachable:
                life.since = self.clock.now
        elif name in ("snooze", "skip"):
            delivery_id = await self.latest_delivery()
            if delivery_id is None:
                return
            weeks = 1 if name == "snooze" else None
            await subscriptions.answer_nudge(
                TEAM, USER, delivery_id, pause_weeks=weeks, client=client
            )
            if name == "snooze":
                life.since = None
        elif name == "fail":
            self.sim.fail("chat.postMessage", status=500, times=operation[1])
            life.since = None
            life.unreachable = True
        schedule, _tz = await self.schedule()
        if schedule is not None and schedule.every_weeks != 1:
            life.since = None


async def play(story: dict, template: Path) -> Life:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "story.db"
        shutil.copy(template, path)
        async with SlackSimulator() as sim:
            sim.add_user(TEAM, USER, tz=story["zone"])
            settings_ = Settings(
                database_url=f"sqlite:///{path}",
                slack_signing_secret=SIGNING_SECRET,
                slack_bot_token=BOT_TOKEN,
                slack_api_url=sim.base_url,
                encryption_keys=ENCRYPTION_KEY,
                # Public holidays move nudges by days: their own property is in test_calendar.
                default_holiday_region="none",
            )
            clock = ManualClock(story["start"])
            ctx = build_context(settings_, clock=clock)
            try:
                run = Story(ctx, sim, clock)
                await run.act(("subscribe", story["weekday"], story["at"]))
                steps = sorted(story["steps"] + story["moves"], key=lambda step: step[0])
                for quarters, operation in steps:
                    await run.run_until(story["start"] + quarters * timedelta(minutes=15))
                    await run.act(operation)
                end = story["start"] + HORIZON
                await run.run_until(end)
                life = run.life
                if life.since is not None and end - life.since > LONGEST_GAP:
                    life.problems.append(f"{end - life.since} without a nudge at the end")
                return life
            finally:
                await ctx.close()


@settings(
    max_examples=EXAMPLES,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no slow explain
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(story=stories)
def test_nudges_stay_apart_respect_pauses_and_keep_coming_over_30_weeks(
    story: dict, sqlite_template: Path
) -> None:
    """Never two nudges under 12 hours apart, never one on a paused day, and never more than
    8 days without one while weekly, active and reachable.

    The rules meet on a zone move. The 12-hour rule is absolute: the re-timed nudge goes at the
    same weekday and local time in the new zone, or 12 hours after the previous nudge if that
    is later. When the new zone's slot has already gone by, this week's nudge goes at once
    rather than being skipped, so a move east never leaves a 13-day gap. A move west delays it
    by the difference in offsets, at most 19 hours 45 minutes between these five zones, so the
    8-day rule holds too. Only between zones more than a day apart (Kiribati and Baker Island,
    say) would "same weekday and local time" leave more than 8 days; that rule is the one kept.

    A change of day or time starts the 8-day count afresh from the change; a zone move does not.
    """
    life = asyncio.run(play(story, sqlite_template))
    event("moved zone" if life.moves else "never moved")
    event(f"{len(life.sends) // 10 * 10}+ nudges")
    assert not life.problems, life.problems
