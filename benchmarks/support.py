"""Shared by the dispatch and serve benchmarks: a throwaway PostgreSQL schema, the machine line,
and starting `leading-bot` subprocesses against the in-process Slack simulator.

Not a benchmark itself; the scripts next to it import it (they run as `python benchmarks/x.py`,
so this folder is on `sys.path`).
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import psycopg

from bot.crypto import Keyring, new_key
from bot.db import sync_url
from bot.migrate import upgrade
from devkit.slack_sim import SlackSimulator

# The PostgreSQL the benchmarks create their schemas in (trust auth on loopback by default).
BASE_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
# ENCRYPTION_KEYS for the app in every benchmark run; seeded tokens are encrypted with it.
BENCH_KEY = new_key()
BENCH_KEYRING = Keyring([BENCH_KEY])


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
            "-m",
            "bot",
            "dispatch",
            "--at",
            at.isoformat(),
            env=dict(env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    outputs = await asyncio.gather(*(child.communicate() for child in children))
    seconds = time.perf_counter() - started
    for child, (_out, err) in zip(children, outputs, strict=True):
        if child.returncode != 0:
            raise RuntimeError(f"dispatch exited {child.returncode}: {err.decode()[-2000:]}")
    return DispatchRun(seconds, [out.decode().strip() for out, _ in outputs])


def sent_in(summary: str) -> int:
    """`sent 12, skipped 0, failed 0` → 12."""
    return int(summary.split(",")[0].split()[1])
