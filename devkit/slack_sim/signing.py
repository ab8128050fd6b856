"""Slack's v0 request signature, and the headers Slack sends with an incoming request."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(signing_secret: str, body: str | bytes, timestamp: int | str) -> str:
    """Slack's v0 request signature for ``body`` sent at ``timestamp``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    signing_secret: str,
    body: str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack sends with an incoming request (pass ``content_type`` for JSON events)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(signing_secret, body, ts),
    }
