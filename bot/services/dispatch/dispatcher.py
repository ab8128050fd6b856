"""One dispatch pass: claim due nudges, send them outside the transaction, record the results.

Exactly once, across restarts and replicas: see claiming (the claim), sending (metadata in each
DM, looked up before a second send) and recording (results in batches). A nudge more than 12
hours late is recorded as missed, not sent: no flood after downtime.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.clock import Clock
from bot.config import Settings
from bot.content import Library
from bot.db import Sessions
from bot.models import Member
from bot.services.dispatch.claiming import LEASE, Job, claim_due, reclaim, renew_claims
from bot.services.dispatch.recording import (
    Recorder,
    delivery_values,
    end_subscription,
    stop_workspace,
    update_rows,
)
from bot.services.dispatch.sending import (
    WORKSPACE_INACTIVE,
    NudgeMessages,
    Outcome,
    message_for,
    send,
)
from bot.services.installations import Installations
from bot.services.profiles import read_zone, save_zone
from bot.services.workspaces import workspace_active
from bot.slack_client import SlackClients

logger = logging.getLogger(__name__)

RENEW_EVERY = LEASE.total_seconds() / 4  # real seconds between renewals of waiting claims


@dataclass
class PassSummary:
    sent: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"sent {self.sent}, skipped {self.skipped}, failed {self.failed}"


@dataclass
class _PassState:
    recorder: Recorder
    summary: PassSummary = field(default_factory=PassSummary)
    dead_teams: set[str] = field(default_factory=set)
    team_locks: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    tokens: dict[str, asyncio.Future[str | None]] = field(default_factory=dict)
    zones_read: set[tuple[str, str]] = field(default_factory=set)  # once per member per pass
    installed: dict[str, asyncio.Future[bool]] = field(default_factory=dict)  # see _installed


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
        rng: random.Random | None = None,
        batch_size: int = 500,
        concurrency: int = 64,
        per_workspace: int = 8,
        batches_in_flight: int = 2,
        renew_every: float = RENEW_EVERY,
        record_every: int = 100,
        record_within: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._library = library
        self._clock = clock
        self._settings = settings
        self._clients = clients
        self._installations = installations
        self.messages = messages
        self._rng = rng or random.Random()
        self._batch = batch_size
        self._concurrency = concurrency
        self._per_workspace = per_workspace
        self._batches_in_flight = batches_in_flight
        self._renew_every = renew_every
        self._record_every = record_every
        self._record_within = record_within

    async def run_pass(self) -> PassSummary:
        now = self._clock()
        state = _PassState(Recorder(self._sessions, self._record_every, self._record_within))
        gate = asyncio.Semaphore(self._concurrency)
        while jobs := await self._reclaim(now, state):
            await self._send_all(jobs, state, gate)
        # The next batch is claimed while this one sends: a batch held up by one workspace's
        # rate limit does not hold up the workspaces in the batch after it.
        in_flight: set[asyncio.Future[None]] = set()
        try:
            while True:
                jobs, unread = await self._claim(now, state)
                if unread:  # zones first: those are claimed in a later round, maybe re-timed
                    await self._read_zones(unread, now, state, gate)
                if not jobs:
                    if not unread:
                        break
                    continue
                in_flight.add(asyncio.ensure_future(self._send_all(jobs, state, gate)))
                if len(in_flight) >= self._batches_in_flight:
                    done, in_flight = await asyncio.wait(
                        in_flight, return_when=asyncio.FIRST_COMPLETED
                    )
                    for batch in done:
                        batch.result()  # raise what the batch raised
        finally:
            outcomes = await asyncio.gather(*in_flight, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return state.summary

    # --- claiming ------------------------------------------------------------------------

    async def _claim(
        self, now: datetime, state: _PassState
    ) -> tuple[list[Job], list[tuple[str, str, str | None]]]:
        claimed = await claim_due(
            self._sessions,
            now=now,
            batch=self._batch,
            zones_read=state.zones_read,
            only_installed=self._installations.multi_workspace,
            default_tz=self._settings.default_tz,
            library=self._library,
            rng=self._rng,
        )
        state.summary.skipped += claimed.missed
        return claimed.jobs, claimed.unread

    async def _reclaim(self, now: datetime, state: _PassState) -> list[Job]:
        jobs, missed = await reclaim(self._sessions, now=now, batch=self._batch)
        state.summary.skipped += missed
        return jobs

    async def _read_zones(
        self,
        people: list[tuple[str, str, str | None]],
        now: datetime,
        state: _PassState,
        gate: asyncio.Semaphore,
    ) -> None:
        """Read each member's zone from Slack once in this pass, before their nudge.

        One users.info per member, within the pass's limits per workspace and in all; a 429 is
        waited out by the client's retry handler. A zone that differs goes through
        `save_zone`, which re-times the nudge; when Slack can't be asked, the stored zone holds.
        """

        async def one(team_id: str, user_id: str) -> tuple[bool, str | None]:
            client = await self._client(team_id, state)
            if client is None:
                return False, None
            lock = state.team_locks.setdefault(team_id, asyncio.Semaphore(self._per_workspace))
            async with lock, gate:
                return await read_zone(client, team_id, user_id)

        answers = await asyncio.gather(*(one(team, user) for team, user, _ in people))
        state.zones_read.update((team, user) for team, user, _ in people)
        same = []
        moved = []
        for (team_id, user_id, stored), (known, tz) in zip(people, answers, strict=True):
            if known and tz == stored:
                same.append({"team_id": team_id, "user_id": user_id, "tz_checked_at": now})
            elif known:
                moved.append((team_id, user_id, tz))
        async with self._sessions() as session, session.begin():
            if same:  # by key: someone forgotten meanwhile matches nothing, and no error
                await update_rows(session, Member.__table__, same, ("team_id", "user_id"))
            for team_id, user_id, tz in sorted(moved, key=lambda person: person[:2]):
                await save_zone(session, team_id, user_id, tz, now, self._settings.default_tz)

    # --- sending -------------------------------------------------------------------------

    async def _send_all(self, jobs: list[Job], state: _PassState, gate: asyncio.Semaphore) -> None:
        async def one(job: Job) -> None:
            lock = state.team_locks.setdefault(job.team_id, asyncio.Semaphore(self._per_workspace))
            # Workspace first: a job waiting its workspace's turn holds no global slot.
            async with lock, gate:
                await self._send(job, state)

        unfinished = {job.delivery_id for job in jobs}

        async def one_then_done(job: Job) -> None:
            try:
                await one(job)
            finally:
                unfinished.discard(job.delivery_id)

        keeper = asyncio.create_task(self._keep_claims(unfinished))
        try:
            outcomes = await asyncio.gather(
                *(one_then_done(job) for job in jobs), return_exceptions=True
            )
        finally:
            keeper.cancel()
            await state.recorder.flush()
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _keep_claims(self, unfinished: set[int]) -> None:
        """Renew the claims of jobs still waiting their turn (a rate-limited workspace can take
        longer than LEASE), so another replica never takes them over and sends them twice."""
        while True:
            await asyncio.sleep(self._renew_every)
            if not unfinished:
                continue
            await renew_claims(self._sessions, unfinished, self._clock())

    async def _client(self, team_id: str, state: _PassState) -> AsyncWebClient | None:
        lookup = state.tokens.get(team_id)
        if lookup is None:  # one look-up per workspace, however many of its jobs start at once
            lookup = state.tokens[team_id] = asyncio.ensure_future(self._token(team_id))
        token = await lookup
        # No automatic resend after a dropped connection: the next pass checks the DM's history.
        return self._clients.for_token(token, retry_connection_errors=False) if token else None

    async def _token(self, team_id: str) -> str | None:
        return await self._installations.token_for(team_id)

    async def _send(self, job: Job, state: _PassState) -> None:
        client = await self._client(job.team_id, state)
        if job.team_id in state.dead_teams:
            outcome = Outcome("failed", "failed", WORKSPACE_INACTIVE)
        elif client is None:
            # No token for this workspace now: keep the nudge for a later pass, not a failure.
            outcome = Outcome("retry", "skipped", "no_token", job.channel_id, count_attempt=False)
        elif (message := message_for(job, self._library, self.messages)) is None:
            outcome = Outcome("failed", "failed", "content_retired")
        else:
            outcome = await send(job, client, message, self._still_installed(job.team_id, state))
        await self._record(job, outcome, state)

    def _still_installed(
        self, team_id: str, state: _PassState
    ) -> Callable[[], Awaitable[bool]] | None:
        """Multi-workspace mode: asked just before each post, so a workspace uninstalled while
        this pass was under way gets nothing more from it."""
        if not self._installations.multi_workspace:
            return None
        return lambda: self._installed(team_id, state)

    async def _installed(self, team_id: str, state: _PassState) -> bool:
        """One look-up in flight per workspace: posts that ask while it runs share its answer
        (a few milliseconds old at most); the next post after it starts a fresh one. A
        workspace found stopped stays stopped for the rest of the pass, with no more look-ups."""
        check = state.installed.get(team_id)
        if check is None or check.done():
            check = asyncio.ensure_future(workspace_active(self._sessions, team_id))
            state.installed[team_id] = check
        active = await check
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
