"""A burst of `/leading-tip` commands: can the embedded default (SQLite) hold a cohort answering
an announcement at once?

`leading-bot serve --no-scheduler` runs as its own process against the in-process Slack
simulator; this process sends `--requests` signed slash commands from `--people` people with
mixed words (tip, practice, blocker, reflect, help, weekly, journal, pause, resume, unknown words),
`--concurrency` at a time, and reports answer-time percentiles, the slowest answer, how many
people were answered, the server's resident memory at the start and end of the run, the CPU
time the server spent per command, and the load average (the host may be shared).

    .venv/bin/python benchmarks/burst.py                       # SQLite file, 5,000 × 200 × 8
    .venv/bin/python benchmarks/burst.py --postgres            # the same on PostgreSQL
    .venv/bin/python benchmarks/burst.py --slack-latency 0.15  # Slack's Web API slow to answer

Goal on SQLite: p99 under 200 ms and the slowest under 1 s, memory flat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from support import app_env, fresh_schema, machine, wait_until_healthy

from devkit.slack_sim import SlackSimulator, signed_headers, slash_command_body

SECRET = "burst-secret"
TOKEN = "xoxb-test-T0001"
WORDS = (
    "tip",
    "practice",
    "blocker",
    "reflect",
    "",
    "help",
    "weekly",
    "journal",
    "pause",
    "resume",
    "weeky",
    "tip please",
)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return "load average " + ", ".join(f"{load:.2f}" for load in os.getloadavg())


async def burst(
    url: str, sim: SlackSimulator, requests: int, people: int, concurrency: int, pid: int
) -> tuple[list[float], set[str], list[int]]:
    jobs = iter((f"U{index % people:05d}", WORDS[index % len(WORDS)]) for index in range(requests))
    times: list[float] = []
    answered: set[str] = set()
    memory = [rss_kib(pid)]
    async with aiohttp.ClientSession() as http:

        async def worker() -> None:
            for user, words in jobs:
                body = slash_command_body(words, user_id=user, response_url=sim.response_url())
                started = time.perf_counter()
                async with http.post(
                    f"{url}/slack/events", data=body, headers=signed_headers(SECRET, body)
                ) as response:
                    await response.read()
                    if response.status == 200:
                        answered.add(user)
                times.append(time.perf_counter() - started)
                if len(times) % 500 == 0:
                    memory.append(rss_kib(pid))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    memory.append(rss_kib(pid))
    return times, answered, memory


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


async def run(database_url: str, args: argparse.Namespace, label: str) -> None:
    async with SlackSimulator(latency=args.slack_latency) as sim:
        for user in range(args.people):
            sim.add_user("T0001", f"U{user:05d}")
        port = free_port()  # not a fixed one: other runs may share the host
        env = app_env(
            database_url, sim, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, PORT=str(port)
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--no-scheduler"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_until_healthy(url, process)
            print(f"{label}: before the burst, {load_average()}")
            started, cpu_started = time.perf_counter(), cpu_seconds(process.pid)
            times, answered, memory = await burst(
                url, sim, args.requests, args.people, args.concurrency, process.pid
            )
            wall = time.perf_counter() - started
            cpu = cpu_seconds(process.pid) - cpu_started
        finally:
            process.terminate()
            process.wait(timeout=30)
    ms = [t * 1000 for t in times]
    print(
        f"{label}: {len(ms)} commands in {wall:.1f} s, {len(answered)}/{args.people} people "
        f"answered; p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
        f"p99 {percentile(ms, 99):.0f} ms, slowest {max(ms):.0f} ms; "
        f"server RSS {memory[0] / 1024:.0f} → {max(memory) / 1024:.0f} (peak) → "
        f"{memory[-1] / 1024:.0f} MiB; server CPU {cpu * 1000 / len(ms):.1f} ms per command "
        f"({cpu / wall:.0%} of one core); after the burst, {load_average()}"
    )
    print("server RSS every 500 commands, MiB: " + " ".join(f"{kib / 1024:.0f}" for kib in memory))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--slack-latency",
        type=float,
        default=0.0,
        help="seconds the simulator takes to answer each Web API call (users.info, …)",
    )
    args = parser.parse_args()
    print(machine())
    if args.postgres:
        with fresh_schema() as schema:
            await run(schema.url, args, "PostgreSQL")
        return
    with tempfile.TemporaryDirectory() as folder:
        await run(f"sqlite:///{Path(folder) / 'burst.db'}", args, "SQLite")


if __name__ == "__main__":
    asyncio.run(main())
