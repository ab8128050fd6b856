"""`leading-bot serve` as an operator starts it: migrates, serves Slack and health checks."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp

from devkit.driver import SlackDriver
from devkit.slack_sim import DEFAULT_TOKEN, SlackSimulator, signed_headers, slash_command_body
from devkit.slack_sim import oauth as sim_oauth
from tests.conftest import ENCRYPTION_KEY
from tests.helpers import blocks_text, free_port, process_env, start_serve, wait_until_healthy


async def test_serve_answers_health_checks_and_a_signed_command(
    database_url: str, sim: SlackSimulator
) -> None:
    port = free_port()
    env = process_env(database_url, sim, SLACK_SIGNING_SECRET="serve-secret", PORT=str(port))
    process = await start_serve(env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_until_healthy(http, base)
            async with http.get(f"{base}/readyz") as response:
                assert response.status == 200
            body = slash_command_body("blocker", response_url=sim.response_url("serve"))
            headers = signed_headers("serve-secret", body)
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
                reply = await response.json()
            assert reply["response_type"] == "ephemeral"
            assert "What can hold you back" in blocks_text(reply["blocks"])
    finally:
        process.terminate()
        _, stderr = await process.communicate()
    # SIGTERM is a clean stop: exit 0, which container platforms read as "stopped", not "crashed".
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode() and "WARNING" not in stderr.decode()


async def test_serve_with_a_client_id_installs_from_its_page_and_answers_the_workspace(
    database_url: str, sim: SlackSimulator
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env |= {
        "DATABASE_URL": database_url,
        "SLACK_CLIENT_ID": sim_oauth.CLIENT_ID,
        "SLACK_CLIENT_SECRET": sim_oauth.CLIENT_SECRET,
        "SLACK_SIGNING_SECRET": "serve-secret",
        "SLACK_API_URL": sim.base_url,
        "ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    process = await start_serve(env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http, SlackDriver(base, "serve-secret", sim) as slack:
            await wait_until_healthy(http, base)
            start = await slack.start_install()
            assert start.page.content_type == "text/html; charset=utf-8"
            assert "Add to Slack" in start.page.body and start.cookie
            assert f"client_id={sim_oauth.CLIENT_ID}" in start.authorize_url
            page = await slack.finish_install(start, sim.authorize_install("T0100", name="Waitaha"))
            assert page.status == 200 and "is added to Waitaha" in page.body
            reply = await slack.slash("blocker", team_id="T0100")
            assert reply.status == 200
            assert "What can hold you back" in blocks_text(reply.json()["blocks"])
    finally:
        process.terminate()
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert "Traceback" not in stderr.decode() and "WARNING" not in stderr.decode()


async def run_serve_until_it_stops(env: dict[str, str]) -> tuple[int, str]:
    """Start `serve` and wait for it to stop by itself; one that keeps running fails the test."""
    process = await start_serve(env)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    except TimeoutError:
        process.kill()
        _, stderr = await process.communicate()
        raise AssertionError(f"serve kept running:\n{stderr.decode()}") from None
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def socket_mode_env(tmp_path: Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-A0001-0000-not-a-real-token",
        "SLACK_API_URL": api_url,
        "PORT": str(free_port()),
        "LOG_LEVEL": "INFO",
    }


async def test_socket_mode_with_a_token_slack_refuses_stops_in_one_line(
    sim: SlackSimulator, tmp_path: Path
) -> None:
    returncode, stderr = await run_serve_until_it_stops(socket_mode_env(tmp_path, sim.base_url))
    assert returncode == 2
    assert stderr.splitlines() == [
        "Configuration error: SLACK_APP_TOKEN: Slack refused it (invalid_auth). Create an "
        "app-level token with the connections:write scope (see README, 'Create the Slack app'), "
        "or unset SLACK_APP_TOKEN to take Slack's requests over HTTP."
    ]
    [call] = sim.calls_to("apps.connections.open")
    assert call.headers["Authorization"] == "Bearer xapp-1-A0001-0000-not-a-real-token"
    assert not (tmp_path / "serve.db").exists()  # checked before anything else starts


async def test_socket_mode_when_slack_cannot_be_reached_stops_in_one_line(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"
    returncode, stderr = await run_serve_until_it_stops(socket_mode_env(tmp_path, nowhere))
    assert returncode == 1
    assert stderr.splitlines() == [
        f"Slack error: could not reach {nowhere} to start Socket Mode (ClientConnectorError). "
        "Check the network and SLACK_API_URL, then start again."
    ]
