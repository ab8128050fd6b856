"""Peak memory of `leading-bot serve`, without and with the in-process nudge scheduler.

A fresh PostgreSQL schema is seeded with bulk SQL: `--members` members of one workspace, each
with a weekly schedule; `--due` of them are due a minute ago (so the scheduler's first pass, at
start-up, sends them real nudges), the rest spread over the coming week. Then, in turn,

    leading-bot serve --no-scheduler      and      leading-bot serve

run as subprocesses against the Slack simulator (in this process). Each gets `--requests` signed
`/leading-tip tip` requests (8 at a time, from members of the seeded workspace); with the
scheduler, the requests start once the first pass has sent its nudges. Prints each process's
RSS after start-up and its peak (VmHWM in /proc/<pid>/status).

    .venv/bin/python benchmarks/serve_rss.py [--members 100000] [--due 300] [--requests 300]

PostgreSQL: $BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
from support import BenchSchema, app_env, fresh_schema, machine

from bot.services.dispatch import METADATA_EVENT
from devkit.slack_sim import (
    DEFAULT_TEAM_ID,
    DEFAULT_TOKEN,
    SlackSimulator,
    signed_headers,
    slash_command_body,
)

SIGNING_SECRET = "bench-signing-secret"
GOAL_MB = 150.0
CONCURRENT_REQUESTS = 8


def user_id(i: int) -> str:
    return f"UR{i:07d}"


def seed(schema: BenchSchema, members: int, due: int, now: datetime) -> None:
    """Members 0..due-1 are due a minute ago; the rest are due over the coming week."""
    params = {
        "team": DEFAULT_TEAM_ID,
        "n": members,
        "due": due,
        "now": now,
        "due_at": now - timedelta(minutes=1),
        "week": timedelta(weeks=1),
    }
    with schema.connect() as connection:
        connection.execute(
            "INSERT INTO workspaces (team_id, name, active, created_at) "
            "VALUES (%(team)s, 'Bench', true, %(now)s)",
            params,
        )
        connection.execute(
            "INSERT INTO members (team_id, user_id, tz, tz_checked_at, created_at) "
            "SELECT %(team)s, 'UR' || lpad(i::text, 7, '0'), 'Pacific/Auckland', %(now)s, "
            "%(now)s FROM generate_series(0, %(n)s - 1) AS i",
            params,
        )
        connection.execute(
            "INSERT INTO schedules (team_id, user_id, weekday, local_minutes, every_weeks, "
            "status, next_due_at, unanswered, backoff_pending, created_at, updated_at) "
            "SELECT team_id, user_id, 0, 540, 1, 'active', "
            "CASE WHEN i < %(due)s THEN %(due_at)s "
            "ELSE %(now)s + (i - %(due)s + 1) * %(week)s / (%(n)s - %(due)s + 1) END, "
            "0, false, %(now)s, %(now)s "
            "FROM (SELECT team_id, user_id, right(user_id, 7)::int AS i FROM members) AS m",
            params,
        )
        connection.execute("VACUUM ANALYZE")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in kB."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0])
    return values


async def wait_until_up(base: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.returncode is not None:
                raise RuntimeError(f"serve exited with {process.returncode}")
            try:
                async with http.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("serve did not come up")


async def send_slash_commands(base: str, sim: SlackSimulator, users: list[str], count: int) -> int:
    """`/leading-tip tip` from `users` in turn, a few at a time; returns how many got 200."""
    gate = asyncio.Semaphore(CONCURRENT_REQUESTS)
    async with aiohttp.ClientSession() as http:

        async def one(i: int) -> bool:
            body = slash_command_body(
                "tip", user_id=users[i % len(users)], response_url=sim.response_url("bench")
            )
            async with (
                gate,
                http.post(
                    f"{base}/slack/events",
                    data=body.encode(),
                    headers=signed_headers(SIGNING_SECRET, body),
                ) as response,
            ):
                await response.read()
                return response.status == 200

        results = await asyncio.gather(*(one(i) for i in range(count)))
    return sum(results)


def nudges_sent(sim: SlackSimulator) -> int:
    return sum(
        1
        for call in sim.calls_to("chat.postMessage")
        if call.failed is None
        and (call.body.get("metadata") or {}).get("event_type") == METADATA_EVENT
    )


@dataclass
class Measured:
    label: str
    startup_kb: int
    peak_kb: int
    rss_kb: int
    ok_requests: int
    nudges: int


async def measure(
    schema: BenchSchema,
    sim: SlackSimulator,
    *,
    scheduler: bool,
    users: list[str],
    requests: int,
    due: int,
) -> Measured:
    port = _free_port()
    env = app_env(
        schema.url,
        sim,
        SLACK_BOT_TOKEN=DEFAULT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PORT=str(port),
    )
    command = ["-m", "bot", "serve"] + ([] if scheduler else ["--no-scheduler"])
    process = await asyncio.create_subprocess_exec(
        sys.executable, *command, env=env, stderr=asyncio.subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base, process)
        startup = memory_kb(process.pid)["VmRSS"]
        if scheduler:  # the first pass runs at start-up; let it finish before the requests
            deadline = time.monotonic() + 120
            while nudges_sent(sim) < due and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # the pass records its last results
        ok = await send_slash_commands(base, sim, users, requests)
        memory = memory_kb(process.pid)
    finally:
        process.terminate()
        await process.wait()
    return Measured(
        label="leading-bot serve" + ("" if scheduler else " --no-scheduler"),
        startup_kb=startup,
        peak_kb=memory["VmHWM"],
        rss_kb=memory["VmRSS"],
        ok_requests=ok,
        nudges=nudges_sent(sim),
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=300, help="members due at start-up")
    parser.add_argument("--requests", type=int, default=300, help="/leading-tip requests")
    args = parser.parse_args()

    print(machine())
    results: list[Measured] = []
    with fresh_schema() as schema:
        started = time.perf_counter()
        seed(schema, args.members, args.due, datetime.now(UTC))
        print(
            f"seeded {args.members:,} members with schedules ({args.due} due now, the rest over "
            f"the coming week) in {time.perf_counter() - started:.1f} s"
        )
        # Slash commands come from members past the due ones (no nudge in flight for them).
        users = [user_id(args.due + i) for i in range(50)]
        for scheduler in (False, True):
            async with SlackSimulator(history_limit=10) as sim:
                for i in range(args.due):
                    sim.add_user(DEFAULT_TEAM_ID, user_id(i))
                for user in users:
                    sim.add_user(DEFAULT_TEAM_ID, user)
                results.append(
                    await measure(
                        schema,
                        sim,
                        scheduler=scheduler,
                        users=users,
                        requests=args.requests,
                        due=args.due,
                    )
                )

    print(f"{'process':<36}{'RSS after start':>17}{'peak (VmHWM)':>15}{'RSS at end':>13}")
    for result in results:
        print(
            f"{result.label:<36}{result.startup_kb / 1024:>14.1f} MB"
            f"{result.peak_kb / 1024:>12.1f} MB{result.rss_kb / 1024:>10.1f} MB"
        )
        print(
            f"  {result.ok_requests}/{args.requests} /leading-tip answered 200; "
            f"nudges sent by this process: {result.nudges}"
        )
    worst = max(result.peak_kb for result in results) / 1024
    met = "met" if worst < GOAL_MB else "NOT met"
    print(f"goal: peak RSS < {GOAL_MB:.0f} MB: highest peak {worst:.1f} MB, {met}")


if __name__ == "__main__":
    asyncio.run(main())
