"""The one place Slack Web API clients are made: our base URL and retry handlers on every one."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import metrics
from bot.config import Settings

# Slack errors that mean "this person can no longer get DMs from us".
MEMBER_GONE_ERRORS = frozenset(
    {"account_inactive", "user_not_found", "user_disabled", "cannot_dm_bot"}
)
# Slack errors that mean "this workspace's token no longer works".
WORKSPACE_GONE_ERRORS = frozenset(
    {"invalid_auth", "token_revoked", "account_inactive", "not_authed", "team_access_not_granted"}
)


class CountedClient(AsyncWebClient):
    """Every Web API call counted by method and result (bot.metrics), retries included once."""

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        method = metrics.label(api_method)
        try:
            response = await super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            metrics.SLACK_CALLS.labels(method, metrics.label(error.response.get("error"))).inc()
            raise
        except (aiohttp.ClientError, OSError, TimeoutError):
            metrics.SLACK_CALLS.labels(method, "connection").inc()
            raise
        metrics.SLACK_CALLS.labels(method, "ok").inc()
        return response


def make_client(
    settings: Settings,
    token: str | None = None,
    session: aiohttp.ClientSession | None = None,
    *,
    retry_connection_errors: bool = True,
    wait_when_rate_limited: bool = True,
) -> AsyncWebClient:
    """429s wait for Retry-After (Slack did nothing), unless the caller paces itself and waits
    elsewhere (the dispatcher: a wait here would hold its slot). Connection errors are retried
    only where a repeat is harmless: a dropped `chat.postMessage` may already have posted."""
    handlers: list[AsyncRetryHandler] = []
    if wait_when_rate_limited:
        handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    if retry_connection_errors:
        handlers.insert(0, AsyncConnectionErrorRetryHandler(max_retry_count=1))
    return CountedClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        session=session,
        retry_handlers=handlers,
    )


class SlackClients:
    """Clients by token, sharing one HTTP connection pool (made inside the running loop)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._clients: dict[tuple[str, bool, bool], AsyncWebClient] = {}

    def for_token(
        self,
        token: str,
        *,
        retry_connection_errors: bool = True,
        wait_when_rate_limited: bool = True,
    ) -> AsyncWebClient:
        key = (token, retry_connection_errors, wait_when_rate_limited)
        client = self._clients.get(key)
        if client is None:
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=200, limit_per_host=200)
                )
            client = make_client(
                self._settings,
                token or None,
                self._session,
                retry_connection_errors=retry_connection_errors,
                wait_when_rate_limited=wait_when_rate_limited,
            )
            self._clients[key] = client
        return client

    def plain(self) -> AsyncWebClient:
        """A client with no token, for the OAuth calls that carry the app's own credentials."""
        return self.for_token("")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._clients.clear()
