"""`leading-bot serve` as an operator starts it: migrates, serves Slack and health checks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import aiohttp

from bot.slack_sim import DEFAULT_TOKEN, SlackSimulator, signed_headers, slash_command_body
from tests.conftest import ENCRYPTION_KEY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_answers_health_checks_and_a_signed_command(
    database_url: str, sim: SlackSimulator
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_SIGNING_SECRET": "serve-secret",
        "SLACK_API_URL": sim.base_url,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--no-scheduler",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(f"{base}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 200
            body = slash_command_body("blocker", response_url=sim.response_url("serve"))
            headers = signed_headers("serve-secret", body)
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
                reply = await response.json()
            assert reply["response_type"] == "ephemeral"
            assert "What can hold you back" in str(reply["blocks"])
    finally:
        process.terminate()
        _, stderr = await process.communicate()
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the parent sees why it stopped.
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()
    assert "Traceback" not in stderr.decode() and "WARNING" not in stderr.decode()
