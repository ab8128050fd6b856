"""Sending: one job to Slack, and Slack's answer sorted into what to record.

Each DM carries the delivery id in Slack message metadata, so a delivery left unconfirmed by a
killed process is looked up in the DM's history before it is ever sent again. Nothing here
writes to the database: `send` returns an `Outcome`, and recording writes it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from cryptography.fernet import InvalidToken
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.content import Item, Library, Question
from bot.services.dispatch.claiming import Job
from bot.slack_client import MEMBER_GONE_ERRORS, WORKSPACE_GONE_ERRORS
from bot.values import EarlierWords

logger = logging.getLogger(__name__)

METADATA_EVENT = "leading_health_nudge"
WORKSPACE_INACTIVE = "workspace_inactive"  # stopped (uninstalled, say): not sent, not retried
# chat.postMessage to a person's id that finds no DM: conversations.open tells why (see send).
NO_DM_ERRORS = frozenset({"channel_not_found", "user_not_found", "user_disabled", "cannot_dm_bot"})


class Sendable(Protocol):
    def as_kwargs(self) -> dict[str, Any]: ...


class NudgeBuilder(Protocol):
    def __call__(
        self,
        library: Library,
        *,
        delivery_id: int,
        item: Item,
        question: Question | None,
        follow_up: Item | None = None,
        earlier: EarlierWords | None = None,
        welcome_back: bool = False,
    ) -> Sendable: ...


class BackoffBuilder(Protocol):
    def __call__(self, library: Library, delivery_id: int) -> Sendable: ...


@dataclass(frozen=True)
class NudgeMessages:
    """How the weekly DMs look. Passed in where the app is wired (bot.app_context), so the
    services never import the renderer."""

    nudge: NudgeBuilder
    backoff_question: BackoffBuilder


@dataclass(frozen=True)
class Outcome:
    """What became of one job, for recording and for the pass's summary."""

    status: str  # sent | retry (a later pass, unless out of attempts) | failed
    tally: str  # sent | skipped | failed: how the pass counts it
    error: str | None = None
    channel: str | None = None  # the DM channel, once known
    opened: bool = False  # the DM channel was opened just now: keep it on the member
    ts: str | None = None
    count_attempt: bool = True  # a retry that used up one of the delivery's attempts
    gone: str | None = None  # "workspace" or "member": Slack says they can't be sent to now
    retry_after: float | None = None  # rate limited (429): Slack's Retry-After, in seconds


def message_for(
    job: Job, library: Library, messages: NudgeMessages, reveal: Callable[[str], str]
) -> Sendable | None:
    """The DM for a job; None if its item was taken out of the content since it was claimed.
    `reveal` decrypts an earlier reflection the nudge shows again, here and only here."""
    if job.kind == "backoff":
        return messages.backoff_question(library, job.delivery_id)
    try:
        item = library.item(job.item_id or "")
    except KeyError:
        return None
    question = follow_up = None
    with contextlib.suppress(KeyError):
        question = library.question(job.question_id or "")
    with contextlib.suppress(KeyError):
        follow_up = library.item(job.follow_up_item_id or "")
    return messages.nudge(
        library,
        delivery_id=job.delivery_id,
        item=item,
        question=question,
        follow_up=follow_up,
        earlier=_earlier_words(job, reveal),
        welcome_back=job.welcome_back,
    )


def _earlier_words(job: Job, reveal: Callable[[str], str]) -> EarlierWords | None:
    """The earlier reflection in words; None when there is none, or no key here can read it
    (the nudge goes without it)."""
    if job.earlier is None or job.due_at is None:
        return None
    try:
        text = reveal(job.earlier.sealed)
    except InvalidToken:
        logger.warning("delivery %s: an earlier reflection could not be read", job.delivery_id)
        return None
    return EarlierWords(text, job.earlier.weeks_before(job.due_at), job.earlier.edited)


async def send(
    job: Job,
    client: AsyncWebClient,
    message: Sendable,
    still_wanted: Callable[[], Awaitable[bool]] | None = None,
) -> Outcome:
    """Look for an earlier copy when recovering (opening the DM to do so), then post, unless
    `still_wanted` says no just before posting (the app was uninstalled meanwhile).

    A first DM goes to the person's id and Slack opens the DM: one call, not two. When Slack
    finds no DM that way, conversations.open says why (the person deactivated, say) or gives
    the channel to post to."""
    channel = job.channel_id
    opened = False

    async def wanted() -> bool:
        return still_wanted is None or await still_wanted()

    try:
        if channel is None and job.recovering:  # the history needs the channel's id
            channel, opened = await _open(client, job.user_id), True
        if job.recovering and channel is not None:
            ts = await _already_sent(client, channel, job.delivery_id)
            if ts is not None:
                return Outcome("sent", "skipped", channel=channel, opened=opened, ts=ts)
        if not await wanted():
            return Outcome("failed", "failed", WORKSPACE_INACTIVE, channel, opened)
        if channel is None:
            try:
                channel, ts = await _post(client, job.user_id, job, message)
                return Outcome("sent", "sent", channel=channel, opened=True, ts=ts)
            except SlackApiError as error:
                if error.response.get("error") not in NO_DM_ERRORS:
                    raise
            channel, opened = await _open(client, job.user_id), True
            if not await wanted():
                return Outcome("failed", "failed", WORKSPACE_INACTIVE, channel, opened)
        _, ts = await _post(client, channel, job, message)
        return Outcome("sent", "sent", channel=channel, opened=opened, ts=ts)
    except SlackApiError as error:
        return await sort_slack_error(client, error, channel, opened)
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        logger.warning("delivery %s: connection problem (%s)", job.delivery_id, type(error))
        return Outcome("retry", "failed", "connection_error", channel, opened)


async def _open(client: AsyncWebClient, user_id: str) -> str:
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])


async def _post(client: AsyncWebClient, to: str, job: Job, message: Sendable) -> tuple[str, str]:
    """Post the nudge to a channel or a person's id: (the channel it went to, its ts)."""
    response = await client.chat_postMessage(
        channel=to,
        metadata={"event_type": METADATA_EVENT, "event_payload": {"delivery_id": job.delivery_id}},
        **message.as_kwargs(),
    )
    return str(response["channel"]), str(response["ts"])


async def _already_sent(client: AsyncWebClient, channel: str, delivery_id: int) -> str | None:
    """Look for our metadata in the DM's recent history before sending a second time."""
    history = await client.conversations_history(
        channel=channel, limit=100, include_all_metadata=True
    )
    messages: list[dict[str, Any]] = history.get("messages", [])
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("delivery_id") == delivery_id:
            return str(message["ts"])
    return None


async def sort_slack_error(
    client: AsyncWebClient, error: SlackApiError, channel: str | None, opened: bool
) -> Outcome:
    """Rate limited: Slack did nothing; with its Retry-After, for the dispatcher to wait out
    (or a later pass, no attempt used). The workspace or the member gone: failed, and they are
    stopped. Anything else: try again in a later pass, up to the attempts left."""
    code = str(error.response.get("error") or "")
    status = error.response.status_code
    if status == 429 or code == "ratelimited":
        return Outcome(
            "retry",
            "skipped",
            "ratelimited",
            channel,
            opened,
            count_attempt=False,
            retry_after=retry_after(error.response.headers),
        )
    if code == "account_inactive" and await _workspace_works(client):
        code = "member_account_inactive"
    if code in WORKSPACE_GONE_ERRORS:
        return Outcome("failed", "failed", code, channel, opened, gone="workspace")
    if code in MEMBER_GONE_ERRORS or code == "member_account_inactive":
        return Outcome("failed", "failed", code, channel, opened, gone="member")
    return Outcome("retry", "failed", code or f"http_{status}", channel, opened)


def retry_after(headers: Mapping[str, Any]) -> float:
    """Slack's Retry-After in seconds; 1 when it is missing or unreadable."""
    for name, value in headers.items():
        text = str(value).strip()
        if name.lower() == "retry-after" and text.replace(".", "", 1).isdigit():
            return float(text)
    return 1.0


async def _workspace_works(client: AsyncWebClient) -> bool:
    try:
        await client.auth_test()
    except SlackApiError:
        return False
    return True
