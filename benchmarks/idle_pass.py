"""An idle dispatch pass over 1,000,000 schedules, none of them due: what every minute costs.

A fresh PostgreSQL schema is seeded with bulk SQL (`INSERT … SELECT generate_series`): 100
workspaces, 1,000,000 members and their weekly schedules, `next_due_at` spread evenly over the
coming week, and last week's sent delivery for each (so the recovery query has rows to skip too);
then ANALYZE. With the clock just before the first due instant it

- runs `Dispatcher.run_pass()` many times (what the scheduler does each minute) and reports
  median/p99, capturing the claim query's SQL and parameters as the dispatcher sends them;
- runs that captured claim query bare (psycopg, as many times) and reports median/p99;
- prints `EXPLAIN (ANALYZE, BUFFERS)` of it, and the plan PostgreSQL uses once the statement
  is prepared and a generic plan is forced (psycopg prepares a statement after 5 runs).

    .venv/bin/python benchmarks/idle_pass.py [--schedules 1000000] [--runs 1000]

PostgreSQL: $BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import sql as pgsql
from sqlalchemy import event
from support import BENCH_KEY, BenchSchema, fresh_schema, machine

from bot.app_context import build_context
from bot.clock import fixed_clock
from bot.config import Settings

START = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)  # the clock; the first schedule is due after it
WEEK = timedelta(weeks=1)
WORKSPACES = 100
GOAL_MS = 5.0


def seed(schema: BenchSchema, schedules: int) -> None:
    """Members, schedules (due over the coming week) and last week's deliveries, in bulk."""
    params = {"n": schedules, "w": WORKSPACES, "start": START, "week": WEEK}
    with schema.connect() as connection:
        connection.cursor().executemany(
            "INSERT INTO workspaces (team_id, name, active, created_at) VALUES (%s, %s, true, %s)",
            [(f"TI{w:03d}", f"Idle {w}", START) for w in range(WORKSPACES)],
        )
        connection.execute(
            "INSERT INTO members (team_id, user_id, tz, tz_checked_at, created_at) "
            "SELECT 'TI' || lpad((i %% %(w)s)::text, 3, '0'), 'UI' || lpad(i::text, 7, '0'), "
            "'Pacific/Auckland', %(start)s, %(start)s FROM generate_series(0, %(n)s - 1) AS i",
            params,
        )
        # i-th schedule due at start + (i + 1) / n of a week: none due now, all within the week.
        connection.execute(
            "INSERT INTO schedules (team_id, user_id, weekday, local_minutes, every_weeks, "
            "status, next_due_at, unanswered, backoff_pending, created_at, updated_at) "
            "SELECT team_id, user_id, 0, 540, 1, 'active', "
            "%(start)s + (right(user_id, 7)::int + 1) * %(week)s / %(n)s, 0, false, "
            "%(start)s - %(week)s, %(start)s - %(week)s FROM members",
            params,
        )
        connection.execute(
            "INSERT INTO deliveries (schedule_id, team_id, user_id, due_at, kind, status, "
            "item_kind, item_id, channel_id, message_ts, attempts, claimed_at, sent_at) "
            "SELECT id, team_id, user_id, next_due_at - %(week)s, 'nudge', 'sent', 'tip', "
            "'tip-1', 'D' || user_id, '1700000000.000100', 0, next_due_at - %(week)s, "
            "next_due_at - %(week)s FROM schedules",
            params,
        )
        connection.execute("VACUUM ANALYZE")


@dataclass
class CapturedSql:
    """Statements the dispatcher sent, by what they read."""

    claim: tuple[str, dict[str, Any]] | None = None
    reclaim: tuple[str, dict[str, Any]] | None = None
    seen: list[str] = field(default_factory=list)

    def record(self, statement: str, parameters: Any) -> None:
        self.seen.append(statement)
        if "FOR UPDATE OF schedules" in statement:
            self.claim = (statement, dict(parameters))
        elif "FOR UPDATE OF deliveries" in statement:
            self.reclaim = (statement, dict(parameters))


def summary(name: str, samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * len(ordered)) - 1)]
    return (
        f"{name:<40} median {statistics.median(ordered):6.2f} ms   p99 {p99:6.2f} ms   "
        f"max {ordered[-1]:6.2f} ms   (n={len(ordered)})"
    )


async def time_run_pass(url: str, runs: int, captured: CapturedSql) -> list[float]:
    settings = Settings(database_url=url, slack_bot_token="xoxb-idle", encryption_keys=BENCH_KEY)
    ctx = build_context(settings, clock=fixed_clock(START))

    @event.listens_for(ctx.engine.sync_engine, "before_cursor_execute")
    def _capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.record(statement, parameters)

    samples: list[float] = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            result = await ctx.dispatcher.run_pass()
            samples.append((time.perf_counter() - started) * 1000)
            assert (result.sent, result.skipped, result.failed) == (0, 0, 0), result
    finally:
        await ctx.close()
    return samples


def time_bare(schema: BenchSchema, sql: tuple[str, dict[str, Any]], runs: int) -> list[float]:
    statement, parameters = sql
    samples: list[float] = []
    with schema.connect() as connection:
        for _ in range(runs):
            started = time.perf_counter()
            with connection.transaction():
                rows = connection.execute(statement, parameters).fetchall()  # type: ignore[arg-type]
            samples.append((time.perf_counter() - started) * 1000)
            assert rows == [], rows
    return samples


def explain(schema: BenchSchema, sql: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    statement, parameters = sql
    with schema.connect() as connection:
        analyzed = connection.execute(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement,  # type: ignore[operator]
            parameters,
        ).fetchall()
        # The plan once the statement is prepared (psycopg does so after 5 runs) and PostgreSQL
        # settles on a generic plan, which cannot see the parameter values.
        names = re.findall(r"%\((\w+)\)s", statement)
        numbered = statement
        for number, name in enumerate(names, start=1):
            numbered = numbered.replace(f"%({name})s", f"${number}", 1)
        connection.execute("SET plan_cache_mode = force_generic_plan")
        connection.execute(f"PREPARE idle_claim AS {numbered}".encode())
        arguments = pgsql.SQL(", ").join(pgsql.Literal(parameters[name]) for name in names)
        generic = connection.execute(
            pgsql.SQL("EXPLAIN EXECUTE idle_claim({})").format(arguments)
        ).fetchall()
    return "\n".join(row[0] for row in analyzed), "\n".join(row[0] for row in generic)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1000, help="timed repetitions of each")
    args = parser.parse_args()

    print(machine())
    with fresh_schema() as schema:
        started = time.perf_counter()
        seed(schema, args.schedules)
        print(
            f"seeded {args.schedules:,} members, schedules and sent deliveries in "
            f"{time.perf_counter() - started:.1f} s (then VACUUM ANALYZE)"
        )
        captured = CapturedSql()
        await time_run_pass(schema.url, 10, captured)  # warm-up: connections, caches, prepare
        passes = await time_run_pass(schema.url, args.runs, captured)
        assert captured.claim is not None and captured.reclaim is not None, captured.seen
        claim = time_bare(schema, captured.claim, args.runs)
        reclaim = time_bare(schema, captured.reclaim, args.runs)
        analyzed, generic = explain(schema, captured.claim)

    print(f"\nclaim query, as Dispatcher._claim sends it (parameters: {captured.claim[1]}):")
    print(captured.claim[0])
    print()
    print(summary("Dispatcher.run_pass(), nothing due", passes))
    print(summary("claim query alone (psycopg, in a txn)", claim))
    print(summary("recovery query alone (psycopg, in a txn)", reclaim))
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the claim query:")
    print(analyzed)
    print("\nEXPLAIN of the claim query prepared, plan_cache_mode = force_generic_plan:")
    print(generic)
    uses_index = "ix_schedules_next_due_at" in analyzed and "ix_schedules_next_due_at" in generic
    print(f"\nindex scan on ix_schedules_next_due_at (custom and generic plan): {uses_index}")
    median = statistics.median(claim)
    met = "met" if median < GOAL_MS else "NOT met"
    print(f"goal: claim query < {GOAL_MS:.0f} ms: median {median:.2f} ms, {met}")


if __name__ == "__main__":
    asyncio.run(main())
