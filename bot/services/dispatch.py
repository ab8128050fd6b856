"""One dispatch pass: claim due nudges, record them, then send outside the transaction.

Exactly once, across restarts and replicas:
- claiming locks due schedules (`FOR UPDATE SKIP LOCKED` on PostgreSQL), writes a delivery whose
  unique key is (schedule, due instant) and advances `next_due_at`, all in one transaction;
- each DM carries the delivery id in Slack message metadata, so a delivery left unconfirmed by a
  killed process is looked up in the DM's history before it is ever sent again;
- a nudge more than 12 hours late is recorded as missed, not sent: no flood after downtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot import blocks
from bot.clock import Clock
from bot.config import Settings
from bot.content import Library
from bot.crypto import Keyring
from bot.db import Sessions
from bot.models import Delivery, Member, Schedule, SeenItem, Workspace
from bot.services.profiles import read_zone, save_zone, zone_or_default
from bot.services.rotation import Seen, choose, nudge_kind
from bot.services.subscriptions import next_due
from bot.services.timing import MAX_LATE
from bot.services.workspaces import bot_token, deactivate_workspace
from bot.slack_client import MEMBER_GONE_ERRORS, WORKSPACE_GONE_ERRORS, SlackClients

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a claim older than this, still unconfirmed, was abandoned
RENEW_EVERY = LEASE.total_seconds() / 4  # real seconds between renewals of waiting claims
MAX_ATTEMPTS = 3
UNANSWERED_BEFORE_ASKING = 3
METADATA_EVENT = "leading_health_nudge"


@dataclass
class PassSummary:
    sent: int = 0
    skipped: int = 0
    failed: int = 0

    def line(self) -> str:
        return f"sent {self.sent}, skipped {self.skipped}, failed {self.failed}"


@dataclass
class Job:
    delivery_id: int
    team_id: str
    user_id: str
    kind: str
    item_id: str | None
    question_id: str | None
    follow_up_item_id: str | None
    channel_id: str | None
    attempts: int
    recovering: bool

    @classmethod
    def of(cls, delivery: Delivery, channel_id: str | None, *, recovering: bool) -> Job:
        return cls(
            delivery_id=delivery.id,
            team_id=delivery.team_id,
            user_id=delivery.user_id,
            kind=delivery.kind,
            item_id=delivery.item_id,
            question_id=delivery.question_id,
            follow_up_item_id=delivery.follow_up_item_id,
            channel_id=delivery.channel_id or channel_id,
            attempts=delivery.attempts or 0,
            recovering=recovering,
        )


class _Recorder:
    """Send results written in batches: one transaction per `size` sends, not two per send.

    Every batch is written before the pass returns. A process killed before a write leaves those
    deliveries `pending`, as a kill between sending and recording always could: after LEASE the
    next pass looks each one up in its DM history before sending it again.
    """

    def __init__(self, sessions: Sessions, size: int, max_wait: float) -> None:
        self._sessions = sessions
        self._size = size
        self._max_wait = max_wait
        self._channels: list[dict[str, object]] = []
        self._deliveries: list[dict[str, object]] = []
        self._oldest = 0.0

    async def channel(self, team_id: str, user_id: str, channel: str) -> None:
        self._channels.append({"team_id": team_id, "user_id": user_id, "dm_channel_id": channel})
        await self._added()

    async def delivery(self, delivery_id: int, values: dict[str, object]) -> None:
        self._deliveries.append({"id": delivery_id, **values})
        await self._added()

    async def _added(self) -> None:
        now = time.monotonic()
        if len(self._channels) + len(self._deliveries) == 1:
            self._oldest = now
        if len(self._deliveries) >= self._size or now - self._oldest >= self._max_wait:
            await self.flush()

    async def flush(self) -> None:
        channels, self._channels = self._channels, []
        deliveries, self._deliveries = self._deliveries, []
        if not channels and not deliveries:
            return
        async with self._sessions() as session, session.begin():
            if channels:
                await _update_rows(session, Member.__table__, channels, ("team_id", "user_id"))
            if deliveries:
                sent = [cast(int, row["id"]) for row in deliveries if row["status"] == "sent"]
                newly_sent = await _not_yet_sent(session, sent)
                await _update_rows(session, Delivery.__table__, deliveries, ("id",))
                await _count_sent(session, newly_sent)


async def _update_rows(
    session: AsyncSession, table: Any, rows: list[dict[str, object]], keys: tuple[str, ...]
) -> None:
    """UPDATE each row by its key, one executemany per set of columns. A row deleted meanwhile
    (its person confirmed `forget` during the pass) matches nothing; the others are written."""
    shapes: dict[tuple[str, ...], list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        shapes[tuple(sorted(row))].append(row)
    for columns, group in shapes.items():
        statement = update(table).where(*(table.c[key] == bindparam(f"key_{key}") for key in keys))
        await session.execute(
            statement,
            [
                {(f"key_{name}" if name in keys else name): row[name] for name in columns}
                for row in group
            ],
        )


async def _not_yet_sent(session: AsyncSession, ids: list[int]) -> list[int]:
    """Which of these deliveries are not yet recorded as sent (locked until the batch is written),
    so a nudge is counted once, however many times its result is recorded."""
    if not ids:
        return []
    rows = await session.scalars(
        select(Delivery.id)
        .where(Delivery.id.in_(ids), Delivery.status != "sent")
        .order_by(Delivery.id)
        .with_for_update()
    )
    return list(rows)


async def _count_sent(session: AsyncSession, ids: list[int]) -> None:
    """Only what Slack accepted counts: a nudge is one more unanswered and its item is seen; a
    "how often?" question now waits for its answer. Rows deleted meanwhile count nothing."""
    if not ids:
        return
    ours = Delivery.id.in_(ids)
    counted_at_claim = Delivery.item_cycle.is_(None)  # claimed before the count moved here
    unanswered = select(Delivery.schedule_id).where(
        ours, Delivery.kind == "nudge", ~counted_at_claim, Delivery.responded_at.is_(None)
    )
    await session.execute(
        update(Schedule)
        .where(Schedule.id.in_(unanswered))
        .values(unanswered=Schedule.unanswered + 1)
        .execution_options(synchronize_session=False)
    )
    asked = select(Delivery.schedule_id).where(ours, Delivery.kind == "backoff")
    await session.execute(
        update(Schedule)
        .where(Schedule.id.in_(asked))
        .values(backoff_pending=True)
        .execution_options(synchronize_session=False)
    )
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    seen = select(
        Delivery.team_id,
        Delivery.user_id,
        Delivery.item_kind,
        Delivery.item_id,
        Delivery.item_cycle,
        Delivery.sent_at,
    ).where(ours, Delivery.kind == "nudge", ~counted_at_claim)
    columns = ["team_id", "user_id", "kind", "item_id", "cycle", "seen_at"]
    await session.execute(
        dialect.insert(SeenItem).from_select(columns, seen).on_conflict_do_nothing()
    )


@dataclass
class _PassState:
    recorder: _Recorder
    summary: PassSummary = field(default_factory=PassSummary)
    dead_teams: set[str] = field(default_factory=set)
    team_locks: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    tokens: dict[str, asyncio.Future[str | None]] = field(default_factory=dict)
    zones_read: set[tuple[str, str]] = field(default_factory=set)  # once per member per pass


class Dispatcher:
    def __init__(
        self,
        sessions: Sessions,
        library: Library,
        clock: Clock,
        settings: Settings,
        clients: SlackClients,
        keyring: Keyring,
        *,
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
        self._keyring = keyring
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
        state = _PassState(_Recorder(self._sessions, self._record_every, self._record_within))
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
        """Claim due schedules whose zone was read in this pass; the others are returned as
        (team, user, stored zone) to be read first, since a new zone may re-time them."""
        due = (
            select(Schedule, Member.tz, Member.dm_channel_id)
            .join(
                Member,
                and_(Member.team_id == Schedule.team_id, Member.user_id == Schedule.user_id),
            )
            .where(Schedule.next_due_at <= now, Schedule.status == "active")
        )
        if not self._settings.slack_bot_token:
            # A workspace with no token of its own can't be sent to: its nudges stay due
            # (until they are too late and are recorded as missed), never claimed and burnt.
            due = due.join(Workspace, Workspace.team_id == Schedule.team_id).where(
                Workspace.bot_token.is_not(None)
            )
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    due.order_by(Schedule.next_due_at)
                    .limit(self._batch)
                    .with_for_update(of=Schedule, skip_locked=True)
                )
            ).all()
            unread = [
                (schedule.team_id, schedule.user_id, tz)
                for schedule, tz, _ in rows
                if (schedule.team_id, schedule.user_id) not in state.zones_read
            ]
            rows = [row for row in rows if (row[0].team_id, row[0].user_id) in state.zones_read]
            if not rows:
                return [], unread
            seen = await self._seen_for(session, [(row[0].team_id, row[0].user_id) for row in rows])
            nudged = await self._nudged_kinds(session, [row[0].id for row in rows])
            reflected = await self._reflected_items(
                session, [row[0].last_delivery_id for row in rows if row[0].last_delivery_id]
            )
            planned: list[tuple[Delivery, Schedule, str | None]] = []
            for schedule, tz, channel_id in rows:
                delivery = self._plan(schedule, tz, now, seen, nudged, reflected, session)
                if delivery.status == "missed":
                    state.summary.skipped += 1
                    session.add(delivery)
                    continue
                planned.append((delivery, schedule, channel_id))
            session.add_all([delivery for delivery, *_ in planned])
            await session.flush()
            jobs = []
            for delivery, schedule, channel_id in planned:
                schedule.last_delivery_id = delivery.id
                jobs.append(Job.of(delivery, channel_id, recovering=False))
            return jobs, unread

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
                await _update_rows(session, Member.__table__, same, ("team_id", "user_id"))
            for team_id, user_id, tz in sorted(moved, key=lambda person: person[:2]):
                await save_zone(session, team_id, user_id, tz, now, self._settings.default_tz)

    def _plan(
        self,
        schedule: Schedule,
        tz: str | None,
        now: datetime,
        seen: dict[tuple[str, str], list[Seen]],
        nudged: dict[tuple[str, str], dict[str, datetime]],
        reflected: dict[int, str],
        session: AsyncSession,
    ) -> Delivery:
        """Decide what this due schedule gets, and move it to its next due instant."""
        zone = zone_or_default(tz, self._settings.default_tz)
        due = schedule.next_due_at
        assert due is not None
        delivery = Delivery(
            schedule_id=schedule.id,
            team_id=schedule.team_id,
            user_id=schedule.user_id,
            due_at=due,
            kind="nudge",
            status="pending",
            attempts=0,
            claimed_at=now,
        )
        schedule.updated_at = now
        if now - due > MAX_LATE:
            delivery.status = "missed"
            schedule.next_due_at = next_due(schedule, now, zone)
            return delivery
        if schedule.backoff_pending:  # we asked how often, and heard nothing: fortnightly
            schedule.every_weeks = 2
            schedule.backoff_pending = False
            schedule.unanswered = 0
        if schedule.unanswered >= UNANSWERED_BEFORE_ASKING:
            delivery.kind = "backoff"  # pending an answer once Slack accepts it
        else:
            key = (schedule.team_id, schedule.user_id)
            kind = nudge_kind(nudged.get(key, {}), seen.get(key, []))
            pick = choose(self._library, seen.get(key, []), kind, self._rng)
            questions = self._library.questions_for(pick.item.id)
            delivery.item_kind = pick.kind
            delivery.item_id = pick.item.id
            delivery.item_cycle = pick.cycle  # seen, and counted, once Slack accepts it
            delivery.question_id = self._rng.choice(questions).id if questions else None
            delivery.follow_up_item_id = reflected.get(schedule.last_delivery_id or -1)
        schedule.next_due_at = next_due(schedule, due, zone, every_weeks=schedule.every_weeks)
        return delivery

    async def _seen_for(
        self, session: AsyncSession, people: list[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Seen]]:
        rows = await session.execute(
            select(
                SeenItem.team_id, SeenItem.user_id, SeenItem.kind, SeenItem.item_id, SeenItem.cycle
            ).where(tuple_(SeenItem.team_id, SeenItem.user_id).in_(people))
        )
        seen: dict[tuple[str, str], list[Seen]] = defaultdict(list)
        for row in rows:
            seen[(row.team_id, row.user_id)].append(Seen(row.kind, row.item_id, row.cycle))
        return seen

    async def _nudged_kinds(
        self, session: AsyncSession, schedule_ids: list[int]
    ) -> dict[tuple[str, str], dict[str, datetime]]:
        """When each kind was last a person's nudge: kinds take turns in the nudges, whatever
        they asked for themselves. A nudge that never reached them took no turn."""
        rows = await session.execute(
            select(
                Delivery.team_id, Delivery.user_id, Delivery.item_kind, func.max(Delivery.due_at)
            )
            .where(
                Delivery.schedule_id.in_(schedule_ids),  # indexed: (schedule_id, due_at)
                Delivery.kind == "nudge",
                Delivery.item_kind.is_not(None),
                Delivery.status.in_(("pending", "retry", "sent")),
            )
            .group_by(Delivery.team_id, Delivery.user_id, Delivery.item_kind)
        )
        nudged: dict[tuple[str, str], dict[str, datetime]] = defaultdict(dict)
        for team_id, user_id, kind, last in rows:
            assert kind is not None  # the query keeps only nudges that had an item
            nudged[(team_id, user_id)][kind] = last
        return nudged

    async def _reflected_items(self, session: AsyncSession, ids: list[int]) -> dict[int, str]:
        """Last nudges that got a reflection: the next nudge opens by naming their item."""
        if not ids:
            return {}
        rows = await session.execute(
            select(Delivery.id, Delivery.item_id).where(
                Delivery.id.in_(ids), Delivery.reflected_at.is_not(None)
            )
        )
        return {row.id: row.item_id for row in rows if row.item_id}

    async def _reclaim(self, now: datetime, state: _PassState) -> list[Job]:
        """Deliveries left unconfirmed by a process that died, or waiting to retry."""
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(Delivery, Member.dm_channel_id)
                    .join(
                        Member,
                        and_(
                            Member.team_id == Delivery.team_id, Member.user_id == Delivery.user_id
                        ),
                    )
                    .where(
                        or_(
                            # Retries wait for a later pass: never again in the pass that failed.
                            and_(Delivery.status == "retry", Delivery.claimed_at < now),
                            and_(Delivery.status == "pending", Delivery.claimed_at < now - LEASE),
                        )
                    )
                    .limit(self._batch)
                    .with_for_update(of=Delivery, skip_locked=True)
                )
            ).all()
            jobs = []
            for delivery, channel_id in rows:
                if now - delivery.due_at > MAX_LATE:
                    delivery.status = "missed"
                    state.summary.skipped += 1
                    continue
                delivery.status = "pending"
                delivery.claimed_at = now
                jobs.append(Job.of(delivery, channel_id, recovering=True))
            return jobs

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
            async with self._sessions() as session, session.begin():
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(list(unfinished)), Delivery.status == "pending")
                    .values(claimed_at=self._clock())
                )

    async def _client(self, team_id: str, state: _PassState) -> AsyncWebClient | None:
        lookup = state.tokens.get(team_id)
        if lookup is None:  # one look-up per workspace, however many of its jobs start at once
            lookup = state.tokens[team_id] = asyncio.ensure_future(self._token(team_id))
        token = await lookup
        # No automatic resend after a dropped connection: the next pass checks the DM's history.
        return self._clients.for_token(token, retry_connection_errors=False) if token else None

    async def _token(self, team_id: str) -> str | None:
        async with self._sessions() as session:
            return await bot_token(session, self._settings, self._keyring, team_id)

    async def _send(self, job: Job, state: _PassState) -> None:
        summary = state.summary
        client = await self._client(job.team_id, state)
        if job.team_id in state.dead_teams:
            await self._record(state, job, status="failed", error="workspace_inactive")
            summary.failed += 1
            return
        if client is None:
            # No token for this workspace now: keep the nudge for a later pass, not a failure.
            await self._retry_later(state, job, "no_token", job.channel_id, count_attempt=False)
            summary.skipped += 1
            return
        message = self._message(job)
        if message is None:
            await self._record(state, job, status="failed", error="content_retired")
            summary.failed += 1
            return
        channel = job.channel_id
        try:
            if channel is None:
                opened = await client.conversations_open(users=job.user_id)
                channel = str(opened["channel"]["id"])
                await state.recorder.channel(job.team_id, job.user_id, channel)
            if job.recovering:
                ts = await self._already_sent(client, channel, job.delivery_id)
                if ts is not None:
                    await self._record(state, job, status="sent", channel=channel, ts=ts)
                    summary.skipped += 1
                    return
            response = await client.chat_postMessage(
                channel=channel,
                metadata={
                    "event_type": METADATA_EVENT,
                    "event_payload": {"delivery_id": job.delivery_id},
                },
                **message.as_kwargs(),
            )
            await self._record(state, job, status="sent", channel=channel, ts=str(response["ts"]))
            summary.sent += 1
        except SlackApiError as error:
            await self._on_slack_error(job, client, error, channel, state)
            return
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            logger.warning("delivery %s: connection problem (%s)", job.delivery_id, type(error))
            await self._retry_later(state, job, "connection_error", channel)
            summary.failed += 1
            return

    def _message(self, job: Job) -> blocks.Message | None:
        """The DM for a job; None if its item was taken out of the content since it was claimed."""
        if job.kind == "backoff":
            return blocks.backoff_question(self._library, job.delivery_id)
        try:
            item = self._library.item(job.item_id or "")
        except KeyError:
            return None
        question = follow_up = None
        with contextlib.suppress(KeyError):
            question = self._library.question(job.question_id or "")
        with contextlib.suppress(KeyError):
            follow_up = self._library.item(job.follow_up_item_id or "")
        return blocks.nudge(
            self._library,
            delivery_id=job.delivery_id,
            item=item,
            question=question,
            follow_up=follow_up,
        )

    async def _already_sent(
        self, client: AsyncWebClient, channel: str, delivery_id: int
    ) -> str | None:
        """Look for our metadata in the DM's recent history before sending a second time."""
        history = await client.conversations_history(
            channel=channel, limit=100, include_all_metadata=True
        )
        messages: list[dict[str, Any]] = history.get("messages", [])
        for message in messages:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("delivery_id") == delivery_id:
                return str(message["ts"])
        return None

    async def _on_slack_error(
        self,
        job: Job,
        client: AsyncWebClient,
        error: SlackApiError,
        channel: str | None,
        state: _PassState,
    ) -> None:
        code = str(error.response.get("error") or "")
        status = error.response.status_code
        if status == 429 or code == "ratelimited":
            # Still limited after the retry handler waited: not a failure, try next pass.
            await self._retry_later(state, job, "ratelimited", channel, count_attempt=False)
            state.summary.skipped += 1
            return
        state.summary.failed += 1
        if code == "account_inactive" and await self._workspace_works(client):
            code = "member_account_inactive"
        if code in WORKSPACE_GONE_ERRORS:
            state.dead_teams.add(job.team_id)
            async with self._sessions() as session, session.begin():
                await deactivate_workspace(session, job.team_id, code, self._clock())
            await self._record(state, job, status="failed", error=code, channel=channel)
            logger.warning("workspace %s stopped: Slack said %s", job.team_id, code)
            return
        if code in MEMBER_GONE_ERRORS or code == "member_account_inactive":
            await self._end_subscription(job, code)
            await self._record(state, job, status="failed", error=code, channel=channel)
            return
        await self._retry_later(state, job, code or f"http_{status}", channel)

    async def _workspace_works(self, client: AsyncWebClient) -> bool:
        try:
            await client.auth_test()
        except SlackApiError:
            return False
        return True

    async def _retry_later(
        self,
        state: _PassState,
        job: Job,
        error: str,
        channel: str | None,
        *,
        count_attempt: bool = True,
    ) -> None:
        attempts = job.attempts + (1 if count_attempt else 0)
        status = "failed" if attempts >= MAX_ATTEMPTS else "retry"
        await self._record(
            state, job, status=status, error=error, channel=channel, attempts=attempts
        )

    # --- recording -----------------------------------------------------------------------

    async def _record(
        self,
        state: _PassState,
        job: Job,
        *,
        status: str,
        error: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
        attempts: int | None = None,
    ) -> None:
        values: dict[str, object] = {"status": status, "error": error and error[:64]}
        if channel is not None:
            values["channel_id"] = channel
        if ts is not None:
            values["message_ts"] = ts
            values["sent_at"] = self._clock()
        if attempts is not None:
            values["attempts"] = attempts
        await state.recorder.delivery(job.delivery_id, values)

    async def _end_subscription(self, job: Job, reason: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Schedule)
                .where(Schedule.team_id == job.team_id, Schedule.user_id == job.user_id)
                .values(
                    status="ended", ended_reason=reason, next_due_at=None, updated_at=self._clock()
                )
            )
