"""The season of tests/test_season.py, larger: by default 5,000 members in 20 workspaces.

The same simulation (`Season` and `verify` are imported from the test): four workspaces as in
the test (a cohort, an uninstall and purge, an uninstall and reinstall) and `--teams` − 4 more,
the rest of `--members` shared among them with the test's mix of behaviours. Twelve weeks of
2027 (Waitangi Day, Easter, the DST changes), three dispatchers, the same faults (429s, 5xx,
dropped connections, a `leading-bot dispatch` worker SIGKILLed mid-pass, PostgreSQL backends
ended mid-pass and mid-request, a web replica restarted). Every invariant is then checked as in
the test; a broken one stops the run with its assertion.

Prints wall time, clock steps, dispatch passes, Slack Web API calls, peak memory (this
process's RSS: the app, the simulator and the season's bookkeeping together) and the counts.

    .venv/bin/python benchmarks/season.py                          # 5,000 members, 20 workspaces
    .venv/bin/python benchmarks/season.py --members 1000 --teams 8

PostgreSQL: $BENCH_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test); the run
gets a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import time
from pathlib import Path

from support import BENCH_KEY, fresh_schema, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests, for the season

from bot.app_context import build_context
from bot.clock import ManualClock
from bot.config import Settings
from devkit.slack_sim import SlackSimulator
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import SIGNING_SECRET, running
from tests.test_season import START, WEEKS, Season, cast, verify

SECRETS = ("CANARY", "xoxb-", "xoxe-", "xoxp-")


class Leaks(logging.Handler):
    """Keeps only log lines with a secret in them (keeping every line would cost gigabytes)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        line = self.format(record)
        if any(secret in line for secret in SECRETS):
            self.lines.append(line)


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(members: int, teams: int) -> None:
    base = len(cast())
    more = teams - 4
    each = max(0, (members - base) // more) if more > 0 else 0
    people = cast(more, each)
    print(machine())
    print(f"{len(people)} members in {teams} workspaces, {WEEKS} weeks from {START:%Y-%m-%d}")
    leaks = Leaks()
    logging.getLogger().addHandler(leaks)
    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("uvicorn").addHandler(leaks)
    with fresh_schema() as schema:
        async with SlackSimulator() as sim:
            settings = Settings(
                database_url=schema.url,
                slack_signing_secret=SIGNING_SECRET,
                slack_client_id=sim_oauth.CLIENT_ID,
                slack_client_secret=sim_oauth.CLIENT_SECRET,
                slack_api_url=sim.base_url,
                encryption_keys=BENCH_KEY,
                default_holiday_region="NZ",
            )
            clock = ManualClock(START)
            ctx = build_context(settings, clock=clock)
            try:
                async with running(ctx, sim) as app:
                    season = Season(app, clock, schema.url, settings, people)
                    started = time.monotonic()
                    await season.install_all()
                    set_up = time.monotonic() - started
                    await season.run()
                    ran = time.monotonic() - started
                    peak_run = peak_mib()
                    # The season's figures first: a broken invariant stops the run below.
                    print(f"wall time: {ran:.0f} s for the season ({set_up:.0f} s subscribing)")
                    print(f"peak memory (RSS) during the season: {peak_run:.0f} MiB")
                    print(f"dispatch passes so far: {season.count['dispatch passes']}", flush=True)
                    await verify(season, "\n".join(leaks.lines))
                    checked = time.monotonic() - started - ran
            finally:
                await ctx.close()
    count = season.count
    print(f"wall time: {ran:.0f} s for the season ({set_up:.0f} s of it subscribing everyone)")
    print(f"checking the invariants: {checked:.0f} s; every invariant held")
    print(f"clock steps: {count['clock steps']}, dispatch passes: {count['dispatch passes']}")
    print(f"Slack Web API calls: {count['slack calls']}, log records: {leaks.records}")
    print(f"peak memory (RSS): {peak_run:.0f} MiB during the season, {peak_mib():.0f} MiB after")
    print("counts:")
    for name, value in sorted(count.counts.items()):
        print(f"  {name}: {value}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--teams", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.members, args.teams))
