"""Weekly nudge fan-out: many members due in the same minute, sent by `leading-bot dispatch`.

Each run gets a fresh PostgreSQL schema, seeded with bulk SQL (COPY): `--workspaces` workspaces,
each installed with its own bot token (encrypted in `slack_bots`, registered in the simulator)
and `--members` members whose weekly nudge is due at the same instant. Then one, and separately
three, `leading-bot dispatch --at <due>` processes run against the Slack simulator, which serves
from this process's event loop. Prints wall time, nudges per second, and a check that every
member got exactly one DM (simulator messages carrying our metadata, per DM channel).

    .venv/bin/python benchmarks/fanout.py                # 100 workspaces × 100 members, no limits
    .venv/bin/python benchmarks/fanout.py --limited      # Slack-like rate limits (see --help)

`--limited` turns on the simulator's token buckets for chat.postMessage (1 per DM channel per
second, `--rate` per workspace per minute, bucket size `--burst`) and reports the achieved rate as
a share of the allowed rate. Defaults there: 10 workspaces × 100 members, 120/min, burst 10, so a
perfect sender needs (100 - 10) / 2 = 45 s.

PostgreSQL: $BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
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

GOAL_SECONDS = 20.0  # 10,000 nudges, one process, no limits
GOAL_SHARE = 0.95  # of the allowed rate, under limits
MAX_PASSES = 5  # under limits, later passes pick up what the first left for retry


@dataclass
class Limits:
    per_minute: int
    burst: int


@dataclass
class RunResult:
    processes: int
    members: int
    seconds: float  # wall time, process start to last exit (first pass)
    sent: int  # over all passes
    first_pass_sent: int
    passes: int
    histogram: Counter[int]
    posts_ok: int
    posts_limited: int
    window: float  # first chat.postMessage to the last one accepted
    looked_back: int = 0  # nudges accepted that showed an earlier reflection again
    dispatch_cpu: float = 0.0  # seconds, all dispatch processes of the first pass


async def run_once(
    teams: list[Team],
    processes: int,
    limits: Limits | None,
    workspace_count: int,
    reflections: int = 0,
) -> RunResult:
    members = sum(len(team.users) for team in teams)
    with fresh_schema() as schema:
        seed(schema, teams, DUE, reflections)
        async with SlackSimulator(history_limit=10) as sim:
            arrange_slack(sim, teams)
            if limits is not None:
                sim.limit_chat_post(
                    per_channel_per_second=1,
                    workspace_per_minute=limits.per_minute,
                    burst=limits.burst,
                )
            env = app_env(schema.url, sim, **MULTI_WORKSPACE_ENV)
            children_before = _cpu()
            run = await run_dispatch_processes(schema.url, sim, DUE, processes, env)
            dispatch_cpu = _cpu() - children_before
            sent = first_pass_sent = sum(sent_in(line) for line in run.summaries)
            passes = 1
            # Deliveries the retry handler gave up on (still rate limited) wait for a later pass.
            while limits is not None and sent < members and passes < MAX_PASSES:
                later = DUE + timedelta(minutes=passes)
                extra = await run_dispatch_processes(schema.url, sim, later, processes, env)
                sent += sum(sent_in(line) for line in extra.summaries)
                passes += 1
            posts = [call for call in sim.calls if call.method == "chat.postMessage"]
            accepted = [call.at for call in posts if call.failed is None]
            window = (max(accepted) - min(call.at for call in posts)) if accepted else 0.0
            return RunResult(
                processes=processes,
                members=members,
                seconds=run.seconds,
                sent=sent,
                first_pass_sent=first_pass_sent,
                passes=passes,
                histogram=dms_per_member(sim, teams),
                posts_ok=sim.stats["chat_post_allowed"] if limits else len(accepted),
                posts_limited=sim.stats["chat_post_limited"],
                window=window,
                dispatch_cpu=dispatch_cpu,
                looked_back=sum(
                    1
                    for call in posts
                    if call.failed is None and "weeks ago you wrote" in str(call.body)
                ),
            )


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(result: RunResult, limits: Limits | None, workspaces: int) -> None:
    label = f"{result.processes} process{'es' if result.processes > 1 else ''}"
    exactly_one = result.histogram.get(1, 0)
    none = result.histogram.get(0, 0)
    more = sum(count for dms, count in result.histogram.items() if dms > 1)
    print(f"\n{label}: {result.members} members due in {workspaces} workspaces")
    print(
        f"  wall time {result.seconds:.2f} s, {result.members / result.seconds:,.0f} nudges/s "
        f"(process start to exit, first pass); first pass sent {result.first_pass_sent}; "
        f"dispatch CPU {result.dispatch_cpu:.2f} s"
    )
    print(
        f"  check: {exactly_one} of {result.members} members got exactly one DM "
        f"({none} got none, {more} got more than one) -> "
        f"{'OK' if exactly_one == result.members else 'FAILED'}"
    )
    if result.looked_back:
        print(f"  {result.looked_back} nudges showed an earlier reflection again")
    if limits is None:
        if result.processes == 1:
            met = "met" if result.seconds <= GOAL_SECONDS else "NOT met"
            print(f"  goal: <= {GOAL_SECONDS:.0f} s with one process: {met}")
        return
    allowed_per_second = workspaces * limits.per_minute / 60
    allowed = workspaces * limits.burst + allowed_per_second * result.window
    share = result.posts_ok / allowed if allowed else 0.0
    ideal = (result.members / workspaces - limits.burst) / (limits.per_minute / 60)
    print(
        f"  passes {result.passes} (sent {result.sent}); chat.postMessage accepted "
        f"{result.posts_ok}, answered 429 {result.posts_limited}"
    )
    print(
        f"  posting window {result.window:.1f} s (ideal {ideal:.1f} s); achieved "
        f"{result.posts_ok / result.window if result.window else 0:.2f}/s vs allowed "
        f"{allowed_per_second:.2f}/s + {workspaces} × burst {limits.burst}"
    )
    met = "met" if share >= GOAL_SHARE else "NOT met"
    print(f"  share of allowed: {share:.1%} (goal >= {GOAL_SHARE:.0%}: {met})")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limited", action="store_true", help="simulator enforces rate limits")
    parser.add_argument("--workspaces", type=int, help="default 100, or 10 with --limited")
    parser.add_argument("--members", type=int, default=100, help="due members per workspace")
    parser.add_argument("--rate", type=int, default=120, help="--limited: posts/min/workspace")
    parser.add_argument("--burst", type=int, default=10, help="--limited: bucket size")
    parser.add_argument(
        "--processes", type=int, nargs="+", default=[1, 3], help="dispatch processes per run"
    )
    parser.add_argument(
        "--reflections",
        type=int,
        default=0,
        help="reflections per member, from four weeks back: each nudge shows one again",
    )
    args = parser.parse_args()
    workspaces = args.workspaces or (10 if args.limited else 100)
    limits = Limits(args.rate, args.burst) if args.limited else None
    teams = make_teams(workspaces, args.members)

    print(machine())
    print(
        "Slack simulator in this process (asyncio), answering every call; it shares the "
        "2 cores with the dispatch processes and PostgreSQL."
    )
    if limits is None:
        print("limits: none, latency 0")
    else:
        print(
            f"limits: chat.postMessage 1/s per DM channel, {limits.per_minute}/min per "
            f"workspace, burst {limits.burst}"
        )
    for processes in args.processes:
        started = time.perf_counter()
        result = await run_once(teams, processes, limits, workspaces, args.reflections)
        report(result, limits, workspaces)
        print(f"  (run incl. seeding and checks: {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    asyncio.run(main())
