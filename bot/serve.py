"""`leading-bot serve`: HTTP under uvicorn, or Socket Mode when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Generator

import aiohttp
import uvicorn
from slack_sdk.errors import SlackApiError

from bot.app import create_bolt_app
from bot.app_context import build_context
from bot.config import ConfigError, Settings
from bot.crypto import Keyring
from bot.slack_client import make_client
from bot.web import create_web_app

logger = logging.getLogger(__name__)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class GracefulServer(uvicorn.Server):
    """uvicorn, except that SIGTERM or SIGINT ends in a clean exit (status 0) once the server
    has stopped and the work under way is finished: uvicorn re-raises the signal after shutting
    down, and container platforms read the resulting status 143 as a crash."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class SlackUnreachable(Exception):
    """Slack's Web API did not answer at all; str(error) is one line."""


async def check_app_token(settings: Settings) -> None:
    """Ask Slack once for a Socket Mode address before anything starts.

    The Socket Mode client retries a refused token every 10 seconds for ever, with a traceback
    each time; here a refusal is one line naming SLACK_APP_TOKEN (ConfigError).
    """
    client = make_client(settings, retry_connection_errors=False)
    try:
        await client.apps_connections_open(app_token=settings.slack_app_token or "")
    except SlackApiError as error:
        raise ConfigError(
            f"Configuration error: SLACK_APP_TOKEN: Slack refused it "
            f"({error.response.get('error')}). Create an app-level token with the "
            "connections:write scope (see README, 'Create the Slack app'), or unset "
            "SLACK_APP_TOKEN to take Slack's requests over HTTP."
        ) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        raise SlackUnreachable(
            f"Slack error: could not reach {settings.slack_api_url} to start Socket Mode "
            f"({type(error).__name__}). Check the network and SLACK_API_URL, then start again."
        ) from None


async def serve(
    settings: Settings, *, run_scheduler: bool = True, keyring: Keyring | None = None
) -> None:
    ctx = build_context(settings, keyring=keyring)
    scheduler = None
    if run_scheduler:
        from scheduler.runner import start

        ctx.dispatcher.beside_requests()
        scheduler = start(ctx)
        logger.info("nudge scheduler running in this process (--no-scheduler to turn off)")
    bolt_app = create_bolt_app(ctx)
    server = GracefulServer(
        uvicorn.Config(
            create_web_app(ctx, bolt_app),
            host="0.0.0.0",
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,
            # JSON logs: uvicorn's lines go through the root logger's JSON formatter too.
            log_config=None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG,
        )
    )
    socket_mode = None
    if settings.slack_app_token:
        from bot.socket_mode import CheckedSocketModeHandler

        socket_mode = CheckedSocketModeHandler(bolt_app, settings.slack_app_token, ctx.foreground)
        logger.info("Socket Mode: connecting to Slack; health checks on port %s", settings.port)
        await socket_mode.connect_async()
    else:
        logger.info("HTTP mode: Slack requests at POST /slack/events on port %s", settings.port)
    try:
        await server.serve()  # returns on SIGTERM or SIGINT
    finally:
        # Stop taking work, let what Slack already has an ack for finish, then close.
        if socket_mode is not None:
            await socket_mode.close_async()
        if scheduler is not None:
            from scheduler.runner import stop_after_pass

            await stop_after_pass(scheduler, ctx)
        await ctx.close()
