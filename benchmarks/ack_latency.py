"""Ack latency of `/leading-tip`: `leading-bot serve` against a bare Bolt app, same adapter+server.

Both run as separate processes under uvicorn with Bolt's Starlette adapter, both talk to the
same in-process Slack simulator, and both get the same N signed `/leading-tip tip` requests,
sent one at a time. Prints p50/p95/p99 for each and the ratio.

    .venv/bin/python benchmarks/ack_latency.py [-n 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

SIGNING_SECRET = "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_bare_app(port: int) -> None:
    """The baseline: a Bolt AsyncApp that acks the command and nothing else."""
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    app = AsyncApp(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.command("/leading-tip")
    async def leading_tip(ack) -> None:  # type: ignore[no-untyped-def]
        await ack(response_type="ephemeral", text="ok")

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request):  # type: ignore[no-untyped-def]
        return await handler.handle(request)

    web = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    uvicorn.run(web, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}")
            try:
                async with http.post(url, data=b"") as response:
                    if response.status in (200, 401):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def measure(url: str, sim: object, n: int, warmup: int) -> list[float]:
    from devkit.slack_sim import signed_headers, slash_command_body

    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as http:
        for i in range(warmup + n):
            body = slash_command_body(
                "tip", user_id=f"U{i % 50:04d}", response_url=sim.response_url("bench")
            )
            headers = signed_headers(SIGNING_SECRET, body)
            started = time.perf_counter()
            async with http.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            if i >= warmup:
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1000, help="requests per app")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()

    from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator

    async with SlackSimulator() as sim:
        with tempfile.TemporaryDirectory() as folder:
            env = {
                **os.environ,
                "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
                or f"sqlite:///{Path(folder) / 'bench.db'}",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
                "SLACK_API_URL": sim.base_url,
                "LOG_LEVEL": "WARNING",
            }
            env.pop("SLACK_APP_TOKEN", None)
            results: dict[str, list[float]] = {}
            for name in ("bare Bolt app", "leading-bot serve"):
                port = free_port()
                if name == "bare Bolt app":
                    command = [sys.executable, __file__, "--bare-server", str(port)]
                else:
                    command = [sys.executable, "-m", "bot", "serve", "--no-scheduler"]
                process = subprocess.Popen(
                    command, env={**env, "PORT": str(port)}, stderr=subprocess.DEVNULL
                )
                try:
                    url = f"http://127.0.0.1:{port}/slack/events"
                    await wait_until_up(url, process)
                    results[name] = await measure(url, sim, args.n, args.warmup)
                finally:
                    process.terminate()
                    process.wait(timeout=10)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"requests: {args.n} per app, one at a time, after {args.warmup} warm-up requests")
    print(f"{'app':<20}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'mean ms':>9}")
    for name, values in results.items():
        print(
            f"{name:<20}{percentile(values, 50):>9.2f}{percentile(values, 95):>9.2f}"
            f"{percentile(values, 99):>9.2f}{statistics.mean(values):>9.2f}"
        )
    ratio = percentile(results["leading-bot serve"], 99) / percentile(results["bare Bolt app"], 99)
    print(f"p99 ratio (leading-bot / bare): {ratio:.2f} (goal ≤ 1.5)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bare-server":
        run_bare_app(int(sys.argv[2]))
    else:
        asyncio.run(main())
