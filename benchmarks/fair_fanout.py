"""Fair fan-out: many workspaces, each under its own Slack rate limits, due in the same minute.

200 workspaces × 50 members, each workspace with its own bot token, every weekly nudge due at
the same instant. The simulator answers every Web API call after `--latency` seconds (a real
asyncio sleep in the server) and rate-limits chat.postMessage per DM channel (1/s) and per
workspace (`--rate` per minute with a bucket of `--burst`), answering 429 + Retry-After.

A workspace alone could do no better than: its burst at once, the rest at its rate, plus the
calls before its first post (users.info, conversations.open) and the post itself:

    ideal = (members - burst) / (rate / 60) + 3 × latency

Every workspace is alike, so the slowest workspace's own minimum is that. The pass (process
start to the last exit, `leading-bot dispatch --at <due>`, one process and three) is reported
against it; goal <= 1.25 × ideal.

    .venv/bin/python benchmarks/fair_fanout.py            # 200 × 50, 60/min, burst 10, 50 ms

PostgreSQL: $BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from support import (
    DUE,
    MULTI_WORKSPACE_ENV,
    Team,
    app_env,
    arrange_slack,
    dms_per_member,
    fresh_schema,
    machine,
    make_teams,
    run_dispatch_processes,
    seed,
    sent_in,
)

from devkit.slack_sim import SlackSimulator

GOAL_RATIO = 1.25
MAX_PASSES = 3  # if the first pass leaves nudges for later, the next passes run straight away


@dataclass(frozen=True)
class Limits:
    per_minute: int
    burst: int
    latency: float

    def ideal(self, members: int) -> float:
        """One workspace's own minimum for `members` nudges, alone with its limits."""
        after_burst = max(0, members - self.burst)
        return after_burst / (self.per_minute / 60) + 3 * self.latency


@dataclass
class RunResult:
    processes: int
    members: int
    seconds: float  # the first pass: process start to the last exit
    first_pass_sent: int
    sent: int
    passes: int
    finished: list[float]  # per workspace: start to its last accepted post, answered
    first_post: float  # start to the first accepted post of all
    sending: list[float]  # per workspace: its first accepted post to its last
    histogram: Counter[int]
    calls: int
    posts_ok: int
    posts_limited: int
    dispatch_cpu: float  # seconds, all dispatch processes of the first pass
    simulator_cpu: float  # seconds, this process (the simulator) during the first pass


async def run_once(teams: list[Team], processes: int, limits: Limits) -> RunResult:
    members = sum(len(team.users) for team in teams)
    with fresh_schema() as schema:
        seed(schema, teams, DUE)
        async with SlackSimulator(history_limit=10, latency=limits.latency) as sim:
            arrange_slack(sim, teams)
            sim.limit_chat_post(
                per_channel_per_second=1, workspace_per_minute=limits.per_minute, burst=limits.burst
            )
            env = app_env(schema.url, sim, **MULTI_WORKSPACE_ENV)
            started = time.monotonic()
            children_before = _cpu(resource.RUSAGE_CHILDREN)
            own_before = _cpu(resource.RUSAGE_SELF)
            run = await run_dispatch_processes(schema.url, sim, DUE, processes, env)
            dispatch_cpu = _cpu(resource.RUSAGE_CHILDREN) - children_before
            simulator_cpu = _cpu(resource.RUSAGE_SELF) - own_before
            first_pass_sent = sent = sum(sent_in(line) for line in run.summaries)
            passes = 1
            last_accepted: dict[str, float] = {}
            first_accepted: dict[str, float] = {}
            for call in sim.calls_to("chat.postMessage"):
                if call.failed is None and call.team_id is not None:
                    last_accepted[call.team_id] = max(last_accepted.get(call.team_id, 0), call.at)
                    first_accepted.setdefault(call.team_id, call.at)
            calls = len(sim.calls)
            while sent < members and passes < MAX_PASSES:
                later = DUE + timedelta(minutes=passes)
                extra = await run_dispatch_processes(schema.url, sim, later, processes, env)
                sent += sum(sent_in(line) for line in extra.summaries)
                passes += 1
            return RunResult(
                processes=processes,
                members=members,
                seconds=run.seconds,
                first_pass_sent=first_pass_sent,
                sent=sent,
                passes=passes,
                finished=sorted(at - started + limits.latency for at in last_accepted.values()),
                first_post=min(first_accepted.values(), default=started) - started,
                sending=sorted(last - first_accepted[team] for team, last in last_accepted.items()),
                histogram=dms_per_member(sim, teams),
                calls=calls,
                posts_ok=sim.stats["chat_post_allowed"],
                posts_limited=sim.stats["chat_post_limited"],
                dispatch_cpu=dispatch_cpu,
                simulator_cpu=simulator_cpu,
            )


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def report(result: RunResult, limits: Limits, workspaces: int) -> None:
    label = f"{result.processes} process{'es' if result.processes > 1 else ''}"
    ideal = limits.ideal(result.members // workspaces)
    ratio = result.seconds / ideal
    exactly_one = result.histogram.get(1, 0)
    finished = result.finished or [0.0]
    print(f"\n{label}: {result.members} members due in {workspaces} workspaces")
    print(
        f"  first pass {result.seconds:.1f} s (process start to last exit), ideal {ideal:.2f} s "
        f"-> {ratio:.2f}× (goal <= {GOAL_RATIO}: {'met' if ratio <= GOAL_RATIO else 'NOT met'})"
    )
    print(
        f"  sent by the first pass {result.first_pass_sent} of {result.members}"
        f"{'' if result.passes == 1 else f'; {result.sent} after {result.passes} passes'}"
    )
    print(
        f"  workspaces done (last post answered, from start): first {finished[0]:.1f} s, "
        f"median {statistics.median(finished):.1f} s, last {finished[-1]:.1f} s "
        f"({len(result.finished)} workspaces)"
    )
    sending = result.sending or [0.0]
    print(
        f"  first post accepted {result.first_post:.1f} s after start; per workspace, first post "
        f"to last: median {statistics.median(sending):.1f} s, longest {sending[-1]:.1f} s "
        f"(alone with its limits: {ideal - 3 * limits.latency:.1f} s)"
    )
    print(
        f"  first pass Web API calls {result.calls:,}; chat.postMessage accepted "
        f"{result.posts_ok:,}, answered 429 {result.posts_limited:,} (all passes)"
    )
    print(
        f"  CPU in the first pass: dispatch {result.dispatch_cpu:.1f} s "
        f"({result.dispatch_cpu / result.members * 1000:.1f} ms per nudge), "
        f"simulator {result.simulator_cpu:.1f} s; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  check: {exactly_one} of {result.members} members got exactly one DM -> "
        f"{'OK' if exactly_one == result.members else 'FAILED'}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspaces", type=int, default=200)
    parser.add_argument("--members", type=int, default=50, help="due members per workspace")
    parser.add_argument("--rate", type=int, default=60, help="chat.postMessage/min/workspace")
    parser.add_argument("--burst", type=int, default=10, help="per-workspace bucket size")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per Web API call")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 3])
    args = parser.parse_args()
    limits = Limits(args.rate, args.burst, args.latency)
    teams = make_teams(args.workspaces, args.members)
    print(machine())
    print(
        f"limits: chat.postMessage 1/s per DM channel, {limits.per_minute}/min per workspace, "
        f"burst {limits.burst}; {limits.latency * 1000:.0f} ms per Web API call"
    )
    for processes in args.processes:
        started = time.perf_counter()
        result = await run_once(teams, processes, limits)
        report(result, limits, args.workspaces)
        print(f"  (run incl. seeding and checks: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    asyncio.run(main())
