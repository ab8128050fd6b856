"""Shared by the dispatch and serve benchmarks: a throwaway PostgreSQL schema, the machine line,
starting `leading-bot` subprocesses against the in-process Slack simulator, and the fan-out
set-up (workspaces with their own tokens, members due at once, the same in the simulator).

Not a benchmark itself; the scripts next to it import it (they run as `python benchmarks/x.py`,
so this folder is on `sys.path`).
"""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import psycopg

from bot.crypto import Keyring, new_key
from bot.db import sync_url
from bot.migrate import upgrade
from bot.services.dispatch import METADATA_EVENT
from devkit.slack_sim import SlackSimulator
from devkit.slack_sim import oauth as sim_oauth

# The PostgreSQL the benchmarks create their schemas in (trust auth on loopback by default).
BASE_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# ENCRYPTION_KEYS for the app in every benchmark run; seeded tokens are encrypted with it.
BENCH_KEY = new_key()
BENCH_KEYRING = Keyring([BENCH_KEY])

DUE = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)  # Monday 30 November, 9:00 am in Auckland
ZONE = "Pacific/Auckland"


@dataclass(frozen=True)
class BenchSchema:
    name: str
    url: str  # SQLAlchemy URL for the app, with search_path pinned to the schema
    conninfo: str  # libpq conninfo for psycopg, same search_path

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=True)


def _conninfo(url: str) -> str:
    return sync_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_schema(base_url: str = BASE_URL) -> Iterator[BenchSchema]:
    """A new `bench_<random>` schema, migrated to head; dropped again whatever happens."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = _conninfo(base_url)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in base_url else "?"
    url = f"{base_url}{separator}options=-csearch_path%3D{name}"
    try:
        upgrade(url)
        yield BenchSchema(name=name, url=url, conninfo=_conninfo(url))
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def machine(base_url: str = BASE_URL) -> str:
    with psycopg.connect(_conninfo(base_url)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    version = row[0] if row else "?"
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{_memory_gib():.0f} GiB RAM, Python {platform.python_version()}, PostgreSQL {version}"
    )


def _memory_gib() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


# Multi-workspace mode: each workspace's own install speaks for it (see seed_bot_tokens).
MULTI_WORKSPACE_ENV = {
    "SLACK_CLIENT_ID": sim_oauth.CLIENT_ID,
    "SLACK_CLIENT_SECRET": sim_oauth.CLIENT_SECRET,
}


def app_env(database_url: str, sim: SlackSimulator, **extra: str) -> dict[str, str]:
    """Environment for a `leading-bot` subprocess talking to `sim` as Slack."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_API_URL": sim.base_url,
        "LOG_LEVEL": "WARNING",
        "ENCRYPTION_KEYS": BENCH_KEY,
        **extra,
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET"):
        if name not in extra:
            env.pop(name, None)
    return env


@dataclass
class DispatchRun:
    seconds: float
    summaries: list[str]


async def run_dispatch_processes(
    database_url: str, sim: SlackSimulator, at: datetime, processes: int, env: Mapping[str, str]
) -> DispatchRun:
    """`processes` × `leading-bot dispatch --at <at>` started together; wall time to the last exit.

    The simulator keeps serving in this event loop while they run.
    """
    started = time.perf_counter()
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            *_profiled(index),
            "-m",
            "bot",
            "dispatch",
            "--at",
            at.isoformat(),
            env=dict(env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for index in range(processes)
    ]
    outputs = await asyncio.gather(*(child.communicate() for child in children))
    seconds = time.perf_counter() - started
    for child, (_out, err) in zip(children, outputs, strict=True):
        if child.returncode != 0:
            raise RuntimeError(f"dispatch exited {child.returncode}: {err.decode()[-2000:]}")
    return DispatchRun(seconds, [out.decode().strip() for out, _ in outputs])


def _profiled(index: int) -> list[str]:
    """`BENCH_PROFILE=DIR`: each dispatch process under cProfile, stats in DIR/dispatch-N.prof."""
    folder = os.environ.get("BENCH_PROFILE")
    if not folder:
        return []
    return ["-m", "cProfile", "-o", os.path.join(folder, f"dispatch-{index}.prof")]


def sent_in(summary: str) -> int:
    """`sent 12, skipped 0, failed 0` → 12."""
    return int(summary.split(",")[0].split()[1])


# --- fan-out set-up ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    team_id: str
    token: str
    bot_user_id: str
    users: list[str]


def make_teams(workspaces: int, members: int) -> list[Team]:
    return [
        Team(
            team_id=f"TB{w:03d}",
            token=f"xoxb-bench-TB{w:03d}",
            bot_user_id=f"UBOTB{w:03d}",
            users=[f"UB{w:03d}{i:05d}" for i in range(members)],
        )
        for w in range(workspaces)
    ]


def seed_bot_tokens(connection: psycopg.Connection, teams: Iterable[Team], at: datetime) -> None:
    """Each workspace installed with its own bot token, in slack_sdk's `slack_bots` table and
    encrypted, as an install through /slack/install stores it (the app runs with
    `MULTI_WORKSPACE_ENV`)."""
    teams = list(teams)
    with connection.cursor().copy(
        "COPY workspaces (team_id, name, active, created_at, bot_user_id) FROM STDIN"
    ) as copy:
        for team in teams:
            copy.write_row((team.team_id, team.team_id, True, at, team.bot_user_id))
    installed = at.astimezone(UTC).replace(tzinfo=None)
    with connection.cursor().copy(
        "COPY slack_bots (client_id, app_id, team_id, team_name, bot_token, bot_id, bot_user_id, "
        "is_enterprise_install, installed_at) FROM STDIN"
    ) as copy:
        for team in teams:
            encrypted = BENCH_KEYRING.encrypt(team.token)
            row = (sim_oauth.CLIENT_ID, "A0001", team.team_id, team.team_id, encrypted)
            copy.write_row((*row, "B" + team.team_id, team.bot_user_id, False, installed))


def seed(schema: BenchSchema, teams: list[Team], due: datetime, reflections: int = 0) -> None:
    """Workspaces with their own tokens, members, and weekly schedules all due at `due`; with
    `reflections`, each member's journal holds that many (encrypted), one a week back from four
    weeks before `due`, so each nudge has an earlier reflection to show again."""
    local = due.astimezone(ZoneInfo(ZONE))
    last_read = due - timedelta(weeks=1)  # zones read at last week's nudge: read again now
    with schema.connect() as connection:
        seed_bot_tokens(connection, teams, due)
        with connection.cursor().copy(
            "COPY members (team_id, user_id, tz, tz_checked_at, created_at) FROM STDIN"
        ) as copy:
            for team in teams:
                for user in team.users:
                    copy.write_row((team.team_id, user, ZONE, last_read, due))
        with connection.cursor().copy(
            "COPY schedules (team_id, user_id, weekday, local_minutes, every_weeks, status, "
            "next_due_at, unanswered, backoff_pending, created_at, updated_at) FROM STDIN"
        ) as copy:
            minutes = local.hour * 60 + local.minute
            for team in teams:
                for user in team.users:
                    row = (team.team_id, user, local.weekday(), minutes, 1, "active", due)
                    copy.write_row((*row, 0, False, due, due))
        if reflections:
            _seed_reflections(connection, teams, due, reflections)
        connection.execute("ANALYZE")


def _seed_reflections(
    connection: psycopg.Connection, teams: list[Team], due: datetime, per_member: int
) -> None:
    with connection.cursor().copy(
        "COPY reflections (team_id, user_id, source, text, created_at) FROM STDIN"
    ) as copy:
        for team in teams:
            for user in team.users:
                for week in range(per_member):
                    written = due - timedelta(days=27, hours=12) - timedelta(weeks=week)
                    text = BENCH_KEYRING.encrypt(f"Week {week}: what I tried, and what happened.")
                    copy.write_row((team.team_id, user, "free", text, written))


def arrange_slack(sim: SlackSimulator, teams: list[Team]) -> None:
    for team in teams:
        sim.add_workspace(team.team_id, team.token, team.bot_user_id, name=team.team_id)
        for user in team.users:
            sim.add_user(team.team_id, user, tz=ZONE)


def dms_per_member(sim: SlackSimulator, teams: list[Team]) -> Counter[int]:
    """How many members got 0, 1, 2… nudges (our metadata) in their DM channel."""
    histogram: Counter[int] = Counter()
    for team in teams:
        for user in team.users:
            messages = sim.messages(f"D{user}", team_id=team.team_id)
            histogram[
                sum(
                    1
                    for message in messages
                    if (message.get("metadata") or {}).get("event_type") == METADATA_EVENT
                )
            ] += 1
    return histogram


async def wait_until_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    """Until `leading-bot serve` at `url` answers /healthz; fails if the process exits."""
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"serve exited with {process.returncode}")
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError("serve did not start")
