"""`/leading-tip` ack latency while the weekly fan-out runs in the same process.

The default deployment is one `leading-bot serve` process: the web server and the nudge
scheduler share one event loop. This starts that process (SQLite, or PostgreSQL with
`--postgres`) with `--members` members due a minute ago, so its first dispatch pass (at
start-up) sends them all, and meanwhile sends signed `/leading-tip tip` commands one after
another, measuring each answer, until the simulator has taken every nudge. Then the same
process and database with nothing due (idle) for the same number of commands. Prints
p50/p99/slowest for both and the ratio of the p99s.

    .venv/bin/python benchmarks/ack_under_fanout.py                 # 10,000 members, SQLite
    .venv/bin/python benchmarks/ack_under_fanout.py --postgres

Goal: p99 under fan-out within 2× of idle, and far from Slack's 3 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy import create_engine, insert
from support import app_env, fresh_schema, machine, wait_until_healthy

from bot.db import sync_url
from bot.migrate import upgrade
from bot.models import Member, Schedule, Workspace
from devkit.slack_sim import SlackSimulator, signed_headers, slash_command_body

SECRET = "fanout-ack-secret"
TOKEN = "xoxb-test-T0001"
ZONE = "Pacific/Auckland"


def seed(database_url: str, members: int, due: datetime) -> list[str]:
    local = due.astimezone(ZoneInfo(ZONE))
    users = [f"UF{i:06d}" for i in range(members)]
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        connection.execute(
            insert(Workspace), [{"team_id": "T0001", "active": True, "created_at": due}]
        )
        if users:
            connection.execute(
                insert(Member),
                [
                    {
                        "team_id": "T0001",
                        "user_id": u,
                        "tz": ZONE,
                        "tz_checked_at": due - timedelta(weeks=1),  # read at last week's nudge
                        "created_at": due,
                    }
                    for u in users
                ],
            )
            connection.execute(
                insert(Schedule),
                [
                    {
                        "team_id": "T0001",
                        "user_id": u,
                        "weekday": local.weekday(),
                        "local_minutes": local.hour * 60 + local.minute,
                        "every_weeks": 1,
                        "status": "active",
                        "next_due_at": due,
                        "unanswered": 0,
                        "backoff_pending": False,
                        "created_at": due,
                        "updated_at": due,
                    }
                    for u in users
                ],
            )
    engine.dispose()
    return users


async def measure(database_url: str, members: int, commands: int | None) -> list[float]:
    """Ack times while `members` nudges go out (until all are sent), or for `commands`."""
    async with SlackSimulator() as sim:
        users = seed(database_url, members, datetime.now(UTC) - timedelta(minutes=1))
        for user in users:
            sim.add_user("T0001", user, tz=ZONE)
        port = 39000 + members % 1000
        env = app_env(
            database_url, sim, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, PORT=str(port)
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        times: list[float] = []
        try:
            await wait_until_healthy(url, process)
            async with aiohttp.ClientSession() as http:
                started = time.perf_counter()
                while True:
                    sent = len(sim.calls_to("chat.postMessage"))
                    if commands is None and sent >= members:
                        break
                    if commands is not None and len(times) >= commands:
                        break
                    if time.perf_counter() - started > 600:
                        raise RuntimeError(f"only {sent} of {members} nudges in 10 minutes")
                    body = slash_command_body("tip", response_url=sim.response_url())
                    begun = time.perf_counter()
                    async with http.post(
                        f"{url}/slack/events", data=body, headers=signed_headers(SECRET, body)
                    ) as response:
                        await response.read()
                    times.append(time.perf_counter() - begun)
                    await asyncio.sleep(0.02)
                took = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)
    if members:
        print(f"  fan-out of {members} nudges took {took:.1f} s; {len(times)} commands during it")
    return times


def summary(label: str, times: list[float]) -> float:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"{label}: n={len(ms)} p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, "
        f"slowest {ms[-1]:.1f} ms"
    )
    return p99


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    print(machine())

    async def both(make_url):  # type: ignore[no-untyped-def]
        busy = await measure(make_url("busy"), args.members, None)
        idle = await measure(make_url("idle"), 0, len(busy))
        ratio = summary("under fan-out", busy) / summary("idle", idle)
        print(f"p99 ratio (fan-out / idle): {ratio:.2f} (goal ≤ 2)")

    if args.postgres:
        schemas = {}
        with fresh_schema() as busy_schema, fresh_schema() as idle_schema:
            schemas = {"busy": busy_schema.url, "idle": idle_schema.url}
            await both(schemas.__getitem__)
        return
    with tempfile.TemporaryDirectory() as folder:

        def sqlite_url(name: str) -> str:
            url = f"sqlite:///{Path(folder) / f'{name}.db'}"
            upgrade(url)
            return url

        await both(sqlite_url)


if __name__ == "__main__":
    asyncio.run(main())
