"""HTTP surface: Slack's endpoint plus health checks, served by uvicorn.

A request to /slack/events is read up to MAX_BODY_BYTES (413 past it, whatever the headers
say), its signature checked (401), its body checked by `bot.inbound` (400), and only then
handed to Bolt.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import metrics
from bot.app_context import AppContext
from bot.commands import parse
from bot.db import database_answers
from bot.inbound import Rejected, read_body
from bot.oauth import INSTALL_PATH, REDIRECT_PATH

logger = logging.getLogger(__name__)

# Slack's own payloads are far smaller; anything bigger is not from Slack.
MAX_BODY_BYTES = 1_000_000
MAX_REQUEST_AGE = 5 * 60  # seconds; older signed requests are replays
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


async def read_capped(request: Request, limit: int = MAX_BODY_BYTES) -> bytes | None:
    """The body, or None once it passes `limit` bytes: chunked bodies declare no length."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 15 or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def signed_by_slack(secret: str | None, raw: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 signature over the bytes as sent, from the last five minutes."""
    if not secret or not _TIMESTAMP.fullmatch(timestamp):
        return False
    if abs(time.time() - int(timestamp)) > MAX_REQUEST_AGE:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def request_context(body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """What kind of request (slash command, action id, view, event type) and whose: ids only,
    never text. Ids and types are Slack's or ours, cut short in case."""
    event, user, team = (_object(body.get(name)) for name in ("event", "user", "team"))
    if body.get("command"):
        kind = "slash_command"
    elif body.get("type") == "block_actions":
        actions = body.get("actions")
        first = _object(actions[0]) if isinstance(actions, list) and actions else {}
        kind = f"action:{first.get('action_id', '')}"
    elif body.get("type") in ("view_submission", "view_closed"):
        view = _object(body.get("view"))
        kind = f"{body['type']}:{view.get('callback_id', '')}"
    elif body.get("type") == "event_callback":
        kind = f"event:{event.get('type', '')}"
    else:
        kind = str(body.get("type") or "request")
    team_id = body.get("team_id") or team.get("id") or event.get("team") or user.get("team_id")
    user_id = body.get("user_id") or user.get("id") or event.get("user")
    return kind[:80], _id(team_id), _id(user_id)


def surface_of(kind: str, body: dict[str, Any]) -> str:
    """The metrics label for a request: a slash command by its command word (never other
    words people typed), anything else by its kind."""
    if kind != "slash_command":
        return metrics.label(kind, fallback="request")
    word = parse(body.get("text") if isinstance(body.get("text"), str) else "").word
    return f"slash:{word or 'bare'}"


def record_answer(body: dict[str, Any], status: int, started: float) -> None:
    """One line and the metrics for a request Bolt answered (over HTTP or Socket Mode): its
    kind, ids and how long the ack took, never its words."""
    kind, team_id, user_id = request_context(body)
    elapsed = time.monotonic() - started
    took = round(elapsed * 1000, 1)
    metrics.ACK_SECONDS.observe(elapsed)
    metrics.REQUESTS.labels(surface_of(kind, body), _outcome(status)).inc()
    logger.info(
        "%s answered %s in %s ms",
        kind,
        status,
        took,
        extra={"request_kind": kind, "team_id": team_id, "user_id": user_id, "duration_ms": took},
    )


def _outcome(status: int) -> str:
    return "ok" if status < 400 else "refused" if status < 500 else "error"


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: object) -> str | None:
    return value[:32] if isinstance(value, str) and value else None


REFUSED_SIGNATURE = (
    "refused a request whose signature did not verify (401); its body is not logged. "
    "If this keeps happening, check SLACK_SIGNING_SECRET and the server clock"
)


def create_web_app(ctx: AppContext, bolt_app: AsyncApp) -> Starlette:
    """Routes only; whoever runs the server closes the context after it stops."""
    secret = ctx.settings.slack_signing_secret

    async def slack_events(request: Request) -> Response:
        with ctx.foreground.answering():
            return await answer_slack(request)

    async def answer_slack(request: Request) -> Response:
        raw = await read_capped(request)
        if raw is None:
            metrics.REQUESTS.labels("unknown", "refused").inc()
            return JSONResponse({"error": "request too large"}, status_code=413)
        headers = request.headers
        timestamp = headers.get("x-slack-request-timestamp", "")
        if not signed_by_slack(secret, raw, timestamp, headers.get("x-slack-signature", "")):
            logger.warning(REFUSED_SIGNATURE)  # never the body: it may hold a reflection
            metrics.REQUESTS.labels("unknown", "refused").inc()
            return JSONResponse({"error": "invalid request"}, status_code=401)
        content_type = headers.get("content-type", "").split(";")[0].strip() or None
        try:
            body = read_body(raw, content_type)
        except Rejected as rejected:
            # The reason names a field, never its value: bodies can hold private text.
            logger.warning("refused a signed request: %s", rejected.reason)
            metrics.REQUESTS.labels("unknown", "refused").inc()
            return JSONResponse({"error": rejected.reason}, status_code=400)
        started = time.monotonic()
        bolt_request = AsyncBoltRequest(
            body=raw.decode("utf-8"), query=request.url.query, headers=dict(headers)
        )
        if bolt_request.body != body:
            # Bolt reads any form body with "payload" somewhere in it as an interactivity
            # payload, so `/leading-tip payload` would reach it empty: give it what was sent.
            bolt_request.body = body
            bolt_request.context = build_async_context(AsyncBoltContext(), body)
        answer = await bolt_app.async_dispatch(bolt_request)
        record_answer(body, answer.status, started)
        return to_starlette_response(answer)

    async def oauth(request: Request) -> Response:
        """Multi-workspace mode's install page and Slack's redirect back (404 otherwise)."""
        flow = bolt_app.oauth_flow
        if flow is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        bolt_request = AsyncBoltRequest(
            body="", query=request.url.query, headers=dict(request.headers)
        )
        if request.url.path == flow.install_path:
            answer = await flow.handle_installation(bolt_request)
        else:
            answer = await flow.handle_callback(bolt_request)
        return to_starlette_response(answer)

    async def metrics_page(_request: Request) -> Response:
        try:
            metrics.INSTALLATIONS.set(await ctx.installations.active_count())
        except SQLAlchemyError as error:  # the figure keeps its last value; /readyz says why
            logger.warning("counting installations for /metrics failed: %s", type(error).__name__)
        text, content_type = metrics.exposition()
        return Response(text, media_type=content_type)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        if await database_answers(ctx.engine):
            return JSONResponse({"status": "ready", "database": "ok"})
        return JSONResponse({"status": "not ready", "database": "unreachable"}, status_code=503)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route(INSTALL_PATH, oauth, methods=["GET"]),
            Route(REDIRECT_PATH, oauth, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )
