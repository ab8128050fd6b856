"""/readyz tells a load balancer the truth about the database."""

from __future__ import annotations

import aiohttp

from bot.app import create_bolt_app
from bot.app_context import build_context
from bot.config import Settings
from bot.web import create_web_app
from devkit.local_server import serve_locally
from devkit.slack_sim import SlackSimulator
from tests.conftest import ENCRYPTION_KEY


async def test_readyz_is_503_and_healthz_200_when_the_database_does_not_answer(
    sim: SlackSimulator,
) -> None:
    settings = Settings(
        database_url="postgresql://postgres@127.0.0.1:9/nowhere",
        slack_signing_secret="s",
        slack_bot_token="xoxb-test-T0001",
        slack_api_url=sim.base_url,
        encryption_keys=ENCRYPTION_KEY,
    )
    ctx = build_context(settings)
    try:
        web = create_web_app(ctx, create_bolt_app(ctx))
        async with serve_locally(web) as url, aiohttp.ClientSession() as http:
            async with http.get(f"{url}/readyz") as response:
                assert response.status == 503
                assert (await response.json())["database"] == "unreachable"
            async with http.get(f"{url}/healthz") as response:
                assert response.status == 200
    finally:
        await ctx.close()
