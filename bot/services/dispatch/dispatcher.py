"""One dispatch pass: claim due nudges, send them outside the transaction, record the results.

Exactly once, across restarts and replicas: see claiming (the claim), sending (metadata in each
DM, looked up before a second send) and recording (results in batches). A nudge more than 12
hours late is recorded as missed, not sent: no flood after downtime. A process that is stopping
claims nothing more (`stop`), and may give up on sends under way (`abandon`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config import Settings
from bot.content import Library
from bot.crypto import Keyring
from bot.db import Sessions, retrying
from bot.foreground import Foreground
from bot.metrics import NUDGES, PASS_CLAIMED
from bot.services.away import DoNotDisturb, away_from, read_dnd
from bot.services.dispatch.claiming import (
    LEASE,
    Claimed,
    Job,
    claim_due,
    due_next,
    reclaim,
    renew_claims,
)
from bot.services.dispatch.looking_back import OLDEST
from bot.services.dispatch.pacing import Pace, Throttle
from bot.services.dispatch.planning import Away
from bot.services.dispatch.recording import (
    Recorder,
    delivery_values,
    end_subscription,
    stop_workspace,
)
from bot.services.dispatch.sending import (
    WORKSPACE_INACTIVE,
    NudgeMessages,
    Outcome,
    Sendable,
    message_for,
    send,
)
from bot.services.installations import Installations
from bot.services.profiles import ProfileRead, read_profile, save_zone
from bot.services.workspaces import active_among
from bot.slack_client import SlackClients

logger = logging.getLogger(__name__)

RENEW_EVERY = LEASE.total_seconds() / 4  # real seconds between renewals of waiting claims
LONGEST_WAIT = 30.0  # seconds: Slack asking a workspace to wait longer leaves it to a later pass
# Seconds an "is it still installed?" answer serves a workspace's posts: an uninstall stops its
# posts within this long, even mid-pass.
INSTALLED_FRESH = 1.0
# The one-process deployment: Slack calls in flight at once, and results per write.
BESIDE_REQUESTS_CONCURRENCY = 16
BESIDE_REQUESTS_RECORD_EVERY = 25
# ... and steps (a zone read or a send, each one Slack call as a rule) started a second, all
# workspaces together: a small share of one core, so requests find the loop nearly free.
# (Slack lets a workspace post a few times a second: this binds only across many workspaces.)
BESIDE_REQUESTS_CALLS_PER_SECOND = 100
ZONE_WAIT = 1.0  # seconds the claims wait for a round of zone reads before going on without it


@dataclass
class PassSummary:
    sent: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"sent {self.sent}, skipped {self.skipped}, failed {self.failed}"


class _Installed:
    """Whether workspaces are still installed, asked just before each post: one query at a time
    for every workspace whose answer is older than `fresh` seconds (a query per post would be
    a query per nudge), its answer shared by the posts that ask while it runs."""

    def __init__(self, sessions: Sessions, fresh: float) -> None:
        self._sessions = sessions
        self._fresh = fresh
        self._answers: dict[str, tuple[float, bool]] = {}  # team -> (asked at, monotonic; active)
        self._wanted: set[str] = set()
        self._round: asyncio.Future[None] | None = None

    async def active(self, team_id: str) -> bool:
        asking = time.monotonic()
        while True:
            answer = self._answers.get(team_id)
            if answer is not None and answer[0] >= min(asking, time.monotonic() - self._fresh):
                return answer[1]
            self._wanted.add(team_id)
            if self._round is None or self._round.done():
                self._round = asyncio.ensure_future(self._ask())
            await asyncio.shield(self._round)

    async def _ask(self) -> None:
        teams, self._wanted = self._wanted, set()
        asked = time.monotonic()
        active = await active_among(self._sessions, teams)
        for team in teams:
            self._answers[team] = (asked, team in active)


@dataclass
class _PassState:
    recorder: Recorder
    gate: asyncio.Semaphore  # the pass's global slots: calls to Slack in flight, all workspaces
    installed: _Installed
    dnd: DoNotDisturb
    summary: PassSummary = field(default_factory=PassSummary)
    dead_teams: set[str] = field(default_factory=set)
    paces: dict[str, Pace] = field(default_factory=dict)
    zone_locks: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    tokens: dict[str, asyncio.Future[str | None]] = field(default_factory=dict)
    # Once per member per pass: what their status and Do Not Disturb said then.
    zones_read: dict[tuple[str, str], Away] = field(default_factory=dict)
    zones_reading: set[tuple[str, str]] = field(default_factory=set)


class _InFlight:
    """What a pass has started and not yet seen finish: jobs, counted by workspace, and zone
    reads, by workspace."""

    def __init__(self) -> None:
        self._running: set[asyncio.Future[None]] = set()
        self._finished: list[asyncio.Future[None]] = []  # not yet looked at
        self._changed = asyncio.Event()
        self.jobs_by_team: Counter[str] = Counter()
        self.unfinished: set[int] = set()  # delivery ids: their claims are kept fresh
        self._reads: defaultdict[str, set[asyncio.Future[None]]] = defaultdict(set)
        self.slow: set[str] = set()  # zones still being read after a claim waited for them
        self.retimed = False  # a zone read moved someone's nudge: due rows may have changed
        self.abandoned = False  # the process is stopping and gave up waiting: see `abandon`

    def __len__(self) -> int:
        return len(self.unfinished)

    def __bool__(self) -> bool:
        return bool(self._running or self._finished)

    def send(self, job: Job, run: Callable[[Job], Awaitable[None]]) -> None:
        self.jobs_by_team[job.team_id] += 1
        self.unfinished.add(job.delivery_id)

        async def tracked() -> None:
            try:
                await run(job)
            finally:
                self.unfinished.discard(job.delivery_id)
                self.jobs_by_team[job.team_id] -= 1
                if not self.jobs_by_team[job.team_id]:
                    del self.jobs_by_team[job.team_id]

        self._start(tracked())

    @property
    def reading(self) -> set[str]:
        """Workspaces whose members' zones are being read."""
        return set(self._reads)

    def read(self, team_id: str, reading: Awaitable[bool]) -> None:
        async def tracked() -> None:
            try:
                self.retimed |= await reading
            finally:
                self._reads[team_id].discard(task)
                if not self._reads[team_id]:
                    del self._reads[team_id]
                    self.slow.discard(team_id)

        task = self._start(tracked())
        self._reads[team_id].add(task)

    def reads_of(self, teams: Collection[str]) -> list[asyncio.Future[None]]:
        return [task for team in teams for task in self._reads.get(team, ())]

    def _start(self, work: Awaitable[None]) -> asyncio.Future[None]:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._done)
        if self.abandoned:  # a claim that was under way when the pass was abandoned
            task.cancel()
        return task

    def abandon(self) -> int:
        """Cancel every job and zone read still running, and any started from now on; how many
        jobs were unfinished."""
        self.abandoned = True
        for task in self._running:
            task.cancel()
        return len(self.unfinished)

    def _done(self, task: asyncio.Future[None]) -> None:
        self._running.discard(task)
        self._finished.append(task)
        self._changed.set()

    def busy(self, most: int) -> set[str]:
        """Workspaces to leave out of the next claim: `most` jobs waiting, or slow to give zones."""
        return {team for team, jobs in self.jobs_by_team.items() if jobs >= most} | self.slow

    def raise_failures(self) -> None:
        """Raise what a finished job or zone read raised, without waiting for more."""
        finished, self._finished = self._finished, []
        for task in finished:
            task.result()

    async def one_finished(self) -> None:
        """Until at least one more has finished (at once if one has since last asked)."""
        if not self._finished:
            self._changed.clear()
            await self._changed.wait()
        finished, self._finished = self._finished, []
        for task in finished:
            if not task.cancelled():  # cancelled: abandoned at shutdown
                task.result()  # raise what it raised

    async def all_finished(self) -> list[BaseException]:
        await asyncio.gather(*self._running, return_exceptions=True)
        finished, self._finished = self._finished, []  # every one of them, by now
        return [
            error
            for task in finished
            if not task.cancelled() and (error := task.exception()) is not None
        ]


class Dispatcher:
    def __init__(
        self,
        sessions: Sessions,
        library: Library,
        clock: Clock,
        settings: Settings,
        clients: SlackClients,
        installations: Installations,
        *,
        messages: NudgeMessages,
        keyring: Keyring,
        rng: random.Random | None = None,
        batch_size: int = 500,
        concurrency: int = 64,
        per_workspace: int = 8,
        batches_in_flight: int = 2,
        claimed_per_workspace: int = 64,
        longest_wait: float = LONGEST_WAIT,
        zone_wait: float = ZONE_WAIT,
        installed_fresh: float = INSTALLED_FRESH,
        renew_every: float = RENEW_EVERY,
        record_every: int = 100,
        record_within: float = 0.5,
        foreground: Foreground | None = None,
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock
        self._settings = settings
        self._clients = clients
        self._installations = installations
        self.messages = messages
        self.keyring = keyring
        self._rng = rng or random.Random()
        self._batch = batch_size
        self._concurrency = concurrency
        self._per_workspace = per_workspace
        self._window = batch_size * batches_in_flight
        self._claimed_per_workspace = claimed_per_workspace
        self._longest_wait = longest_wait
        self._zone_wait = zone_wait
        self._installed_fresh = installed_fresh
        self._renew_every = renew_every
        self._record_every = record_every
        self._record_within = record_within
        self._foreground = foreground or Foreground()
        self._throttle: Throttle | None = None  # see beside_requests
        self._stopping = False
        self._passes: set[_InFlight] = set()  # what each pass under way has started

    def beside_requests(self) -> None:
        """This process answers Slack's requests too (the one-process deployment): fewer calls
        at once and smaller writes, so little is ready to run when a request arrives. (Each
        workspace's rate limit, not this, paces a workspace's nudges.)"""
        self._concurrency = min(self._concurrency, BESIDE_REQUESTS_CONCURRENCY)
        self._record_every = min(self._record_every, BESIDE_REQUESTS_RECORD_EVERY)
        self._throttle = Throttle(BESIDE_REQUESTS_CALLS_PER_SECOND)

    def stop(self) -> None:
        """The process is stopping: a pass under way claims nothing more and finishes the sends
        it has claimed; a pass started later claims nothing. For good."""
        self._stopping = True

    def abandon(self) -> int:
        """Give up on the sends still under way (the process is stopping and has waited long
        enough); how many. Each pass then records what it did send and returns. An abandoned
        send stays `pending`: it may have reached Slack, so the first pass after LEASE looks
        for it in the DM's history before sending it. Implies `stop`."""
        self._stopping = True
        return sum(flight.abandon() for flight in self._passes)

    async def run_pass(self) -> PassSummary:
        now = self._clock()
        state = _PassState(
            Recorder(self._sessions, self._record_every, self._record_within),
            asyncio.Semaphore(self._concurrency),
            _Installed(self._sessions, self._installed_fresh),
            DoNotDisturb(self._sessions, now),
        )
        flight = _InFlight()
        self._passes.add(flight)
        keeper = asyncio.create_task(self._keep_claims(flight.unfinished))
        try:
            await self._fan_out(now, state, flight)
        finally:
            failures = await flight.all_finished()
            keeper.cancel()
            self._passes.discard(flight)
            await state.recorder.flush()
        for failure in failures:
            raise failure
        return state.summary

    async def _fan_out(self, now: datetime, state: _PassState, flight: _InFlight) -> None:
        """Keep up to `batches_in_flight` batches of jobs claimed and unfinished, claiming more
        as any job finishes, never as a whole batch finishes: a workspace that is slow or
        rate-limited keeps at most `claimed_per_workspace` (and one claim more) of its jobs
        waiting here, and the others go on being claimed and sent."""
        # Deliveries left by a process that died, or waiting to retry, before anything new.
        while True:
            await self._room(flight)
            if self._stopping:
                return
            jobs = await self._reclaim(now, state)
            if not jobs:
                break
            for job in jobs:
                flight.send(job, lambda job: self._send(job, state))
        maybe_due: set[str] | None = None  # None: any workspace may still have nudges due
        while True:
            await self._room(flight)
            if self._stopping:
                return
            flight.raise_failures()
            if flight.retimed:
                maybe_due, flight.retimed = None, False
            busy = flight.busy(self._claimed_per_workspace)
            if maybe_due is not None and maybe_due <= busy:
                if not maybe_due or not flight:
                    return
                await flight.one_finished()  # until one of them has room again
                continue
            limit = min(self._batch, self._window - len(flight))
            claimed = await self._claim(now, state, limit, busy)
            for job in claimed.jobs:
                flight.send(job, lambda job: self._send(job, state))
            # Zones first: these nudges are claimed once their zones are read.
            unread = self._read_ahead(claimed.unread, now, state, flight)
            if claimed.found < limit:  # only the workspaces left out, or just seen, may have more
                seen = busy | claimed.teams
                maybe_due = seen if maybe_due is None else maybe_due & seen
            if unread:
                # Claim them together once read, but not after a slow workspace: its reads go on
                # while it is left out of the claims, and the others are claimed and sent.
                if reads := flight.reads_of(unread):
                    await asyncio.wait(reads, timeout=self._zone_wait)
                flight.slow |= unread & flight.reading
            elif claimed.found == limit:
                # More are due: read the next ones' zones while these are sent.
                ahead = await due_next(
                    self._sessions,
                    now=now,
                    batch=self._batch,
                    only_installed=self._installations.multi_workspace,
                    per_workspace=self._claimed_per_workspace,
                    skip_teams=flight.busy(self._claimed_per_workspace),
                )
                self._read_ahead(ahead, now, state, flight)

    def _read_ahead(
        self,
        people: list[tuple[str, str, str | None]],
        now: datetime,
        state: _PassState,
        flight: _InFlight,
    ) -> set[str]:
        """Start reading the zones of those not read in this pass, nor being read; the
        workspaces of those not read yet."""
        waiting: set[str] = set()
        unread: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
        for team_id, user_id, tz in people:
            if (team_id, user_id) in state.zones_read:
                continue
            waiting.add(team_id)
            if (team_id, user_id) not in state.zones_reading:
                state.zones_reading.add((team_id, user_id))
                unread[team_id].append((user_id, tz))
        for team_id, group in unread.items():
            flight.read(team_id, self._read_zones(team_id, group, now, state))
        return waiting

    async def _room(self, flight: _InFlight) -> None:
        """Until a whole batch more fits in the window, or the process is stopping."""
        while len(flight) > self._window - self._batch and flight and not self._stopping:
            await flight.one_finished()

    # --- claiming ------------------------------------------------------------------------

    async def _my_turn(self) -> None:
        """Before a step of the pass: requests being answered go first, and the pass keeps to
        its share of the process (see beside_requests)."""
        await self._foreground.give_way()
        if self._throttle is not None:
            await self._throttle.take()

    async def _claim(self, now: datetime, state: _PassState, limit: int, busy: set[str]) -> Claimed:
        await self._foreground.give_way()
        # One transaction, safe to run again: a connection ended mid-claim (a database restart,
        # a failover) rolls it back, and the claim is made again rather than ending the pass.
        claimed = await retrying(
            lambda: claim_due(
                self._sessions,
                now=now,
                batch=limit,
                zones_read=state.zones_read,
                only_installed=self._installations.multi_workspace,
                default_tz=self._settings.default_tz,
                default_region=self._settings.default_holiday_region,
                library=self._library,
                rng=self._rng,
                per_workspace=self._claimed_per_workspace,
                skip_teams=busy,
                oldest=self._oldest_shown(),
            ),
            "claiming due nudges",
        )
        state.summary.skipped += claimed.missed
        NUDGES.labels("missed", "late").inc(claimed.missed)
        for why, count in claimed.held.items():
            NUDGES.labels("held", why).inc(count)
        PASS_CLAIMED.inc(len(claimed.jobs) + claimed.missed)
        return claimed

    def _oldest_shown(self) -> timedelta:
        """Earlier reflections this old are never shown again: retention deletes them."""
        days = self._settings.reflection_retention_days
        return OLDEST if days is None else min(OLDEST, timedelta(days=days))

    async def _reclaim(self, now: datetime, state: _PassState) -> list[Job]:
        jobs, missed = await retrying(
            lambda: reclaim(
                self._sessions, now=now, batch=self._batch, oldest=self._oldest_shown()
            ),
            "taking over abandoned nudges",
        )
        state.summary.skipped += missed
        NUDGES.labels("missed", "late").inc(missed)
        PASS_CLAIMED.inc(len(jobs) + missed)
        return jobs

    async def _read_zones(
        self, team_id: str, people: list[tuple[str, str | None]], now: datetime, state: _PassState
    ) -> bool:
        """Read each member's zone and status from Slack once in this pass, before their nudge,
        and whether they are in Do Not Disturb; whether anyone's zone moved.

        One users.info per member (its status says whether they are on leave), and one
        dnd.teamInfo per 50 of the workspace's due people (`DoNotDisturb`), within the pass's
        limits per workspace and in all; a 429 is
        waited out by the client's retry handler. A zone that differs goes through `save_zone`,
        which re-times the nudge; when Slack can't be asked, the stored zone holds and the nudge
        goes as if they were at work. Each workspace's members are read on their own, so one
        slow workspace holds up only its own claims.
        """
        client = await self._client(team_id, state, paced=False)
        lock = state.zone_locks.setdefault(team_id, asyncio.Semaphore(self._per_workspace))

        async def one(user_id: str) -> ProfileRead:
            if client is None:
                return ProfileRead(False)
            async with lock, state.gate:
                await self._my_turn()
                return await read_profile(client, team_id, user_id)

        async def dnd(user_ids: list[str]) -> dict[str, datetime]:
            if client is None:
                return {}
            async with lock, state.gate:
                await self._my_turn()
                return await read_dnd(client, team_id, user_ids, now)

        answers = await asyncio.gather(*(one(user_id) for user_id, _ in people))
        known = [user_id for (user_id, _), read in zip(people, answers, strict=True) if read.known]
        dnd_until = await state.dnd.ends(team_id, known, dnd)
        moved = []
        found: dict[tuple[str, str], Away] = {}
        for (user_id, stored), read in zip(people, answers, strict=True):
            found[(team_id, user_id)] = away = (
                away_from(
                    read,
                    dnd_until.get(user_id),
                    now,
                    self._settings.leave_emoji,
                    self._settings.leave_words,
                )
                if read.known
                else Away()
            )
            if not read.known:
                continue
            await state.recorder.profile_read(team_id, user_id, now, away, zone=read.tz == stored)
            if read.tz != stored:
                moved.append((user_id, read.tz))
        if moved:
            async with self._sessions() as session, session.begin():
                for user_id, tz in sorted(moved, key=lambda person: person[0]):
                    await save_zone(session, team_id, user_id, tz, now, self._settings.default_tz)
        # Claimable only now: a nudge re-timed by a new zone is never claimed at its old time.
        state.zones_read.update(found)
        state.zones_reading -= set(found)
        return bool(moved)

    # --- sending -------------------------------------------------------------------------

    async def _keep_claims(self, unfinished: set[int]) -> None:
        """Renew the claims of jobs still waiting their turn (a rate-limited workspace can take
        longer than LEASE), so another replica never takes them over and sends them twice."""
        while True:
            await asyncio.sleep(self._renew_every)
            if not unfinished:
                continue
            await renew_claims(self._sessions, list(unfinished), self._clock())

    async def _client(
        self, team_id: str, state: _PassState, *, paced: bool
    ) -> AsyncWebClient | None:
        lookup = state.tokens.get(team_id)
        if lookup is None:  # one look-up per workspace, however many of its jobs start at once
            lookup = state.tokens[team_id] = asyncio.ensure_future(self._token(team_id))
        token = await lookup
        # No automatic resend after a dropped connection: the next pass checks the DM's history.
        # Paced sends wait out a 429 in their workspace's Pace, not in the client.
        return (
            self._clients.for_token(
                token, retry_connection_errors=False, wait_when_rate_limited=not paced
            )
            if token
            else None
        )

    async def _token(self, team_id: str) -> str | None:
        return await self._installations.token_for(team_id)

    async def _send(self, job: Job, state: _PassState) -> None:
        client = await self._client(job.team_id, state, paced=True)
        if job.team_id in state.dead_teams:
            outcome = Outcome("failed", "failed", WORKSPACE_INACTIVE)
        elif client is None:
            # No token for this workspace now: keep the nudge for a later pass, not a failure.
            outcome = Outcome("retry", "skipped", "no_token", job.channel_id, count_attempt=False)
        elif (
            message := message_for(job, self._library, self.messages, self.keyring.decrypt)
        ) is None:
            outcome = Outcome("failed", "failed", "content_retired")
        else:
            outcome = await self._send_paced(job, client, message, state)
        await self._record(job, outcome, state)

    async def _send_paced(
        self, job: Job, client: AsyncWebClient, message: Sendable, state: _PassState
    ) -> Outcome:
        """Send in the workspace's turn, taking a global slot only for the calls themselves; a
        429 is waited out in the workspace's Pace, and the job tries again from where it was."""
        pace = state.paces.get(job.team_id)
        if pace is None:
            pace = state.paces[job.team_id] = Pace(self._per_workspace, self._longest_wait)
        opened = False
        while True:
            async with pace.turn() as started:
                if job.team_id in state.dead_teams:  # stopped while this job waited its turn
                    outcome = Outcome("failed", "failed", WORKSPACE_INACTIVE)
                elif started is None:  # Slack asked for a longer wait than a pass gives
                    outcome = Outcome("retry", "skipped", "ratelimited", count_attempt=False)
                else:
                    async with state.gate:
                        await self._my_turn()
                        outcome = await send(
                            job, client, message, self._still_installed(job.team_id, state)
                        )
            opened = opened or outcome.opened
            job.channel_id = outcome.channel or job.channel_id
            if started is None or outcome.retry_after is None:
                if started is not None:
                    pace.answered()
                return replace(outcome, channel=job.channel_id, opened=opened, retry_after=None)
            pace.limited(outcome.retry_after, started)

    def _still_installed(
        self, team_id: str, state: _PassState
    ) -> Callable[[], Awaitable[bool]] | None:
        """Multi-workspace mode: asked just before each post, so a workspace uninstalled while
        this pass was under way gets nothing more from it."""
        if not self._installations.multi_workspace:
            return None
        return lambda: self._installed(team_id, state)

    async def _installed(self, team_id: str, state: _PassState) -> bool:
        """A workspace found stopped stays stopped for the rest of the pass."""
        active = await state.installed.active(team_id)
        if not active:
            state.dead_teams.add(team_id)
        return active

    # --- recording -----------------------------------------------------------------------

    async def _record(self, job: Job, outcome: Outcome, state: _PassState) -> None:
        summary = state.summary
        if outcome.tally == "sent":
            summary.sent += 1
        elif outcome.tally == "skipped":
            summary.skipped += 1
        else:
            summary.failed += 1
        if outcome.opened and outcome.channel is not None:
            await state.recorder.channel(job.team_id, job.user_id, outcome.channel)
        if outcome.gone == "workspace" and outcome.error:
            state.dead_teams.add(job.team_id)
            await stop_workspace(self._sessions, job.team_id, outcome.error, self._clock())
            logger.warning("workspace %s stopped: Slack said %s", job.team_id, outcome.error)
        elif outcome.gone == "member" and outcome.error:
            await end_subscription(self._sessions, job, outcome.error, self._clock())
        await state.recorder.delivery(job.delivery_id, delivery_values(job, outcome, self._clock()))
