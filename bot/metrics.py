"""Prometheus metrics: what an operator needs to see inside the running app.

Labels carry kinds, never people: no user or team ids, names or text. Served at `GET /metrics`
by `serve`, and on METRICS_PORT by `leading-bot scheduler`. With PROMETHEUS_MULTIPROC_DIR set
(several worker processes on one host), each process writes its figures there and every
`/metrics` answers for all of them (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import functools
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

# Slack waits 3 s for an ack: buckets around what matters.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
PASS_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)

REQUESTS = Counter(
    "leading_requests",
    "Requests from Slack, by surface (command word, action, view or event type) and outcome.",
    ["surface", "outcome"],
)
ACK_SECONDS = Histogram(
    "leading_ack_seconds",
    "Time from a Slack request arriving to its answer (Slack gives up after 3 s).",
    buckets=ACK_BUCKETS,
)
NUDGES = Counter(
    "leading_nudges",
    "Nudges by result (sent, retry, failed, missed, skipped, held) and reason (Slack's error, "
    "no_token, late, none; held: holiday, leave or dnd).",
    ["result", "reason"],
)
PASS_SECONDS = Histogram(
    "leading_dispatch_pass_seconds", "How long each dispatch pass took.", buckets=PASS_BUCKETS
)
PASS_CLAIMED = Counter("leading_dispatch_claimed", "Nudges claimed by dispatch passes.")
SLACK_CALLS = Counter(
    "leading_slack_api_calls",
    "Slack Web API calls by method and result (ok, Slack's error code, or connection).",
    ["method", "result"],
)
REFLECTIONS = Counter("leading_reflections", "Reflections stored, edited and deleted.", ["action"])
INSTALLATIONS = Gauge(
    "leading_installations_active",
    "Workspaces the app is installed and active in (1 in single-workspace mode).",
    multiprocess_mode="max",
)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@functools.lru_cache(maxsize=4096)
def label(value: str | None, *, fallback: str = "none", longest: int = 48) -> str:
    """A label value kept short and plain: Slack's error codes, our action ids."""
    if not value:
        return fallback
    cleaned = "".join(c if c.isalnum() or c in "_:.-" else "_" for c in value[:longest])
    return cleaned or fallback


def serve_metrics(port: int) -> None:
    """`/metrics` on its own port, in a thread (for `leading-bot scheduler`)."""
    registry = REGISTRY
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(port, registry=registry)


def exposition() -> tuple[bytes, str]:
    """The text Prometheus scrapes, and its content type."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
