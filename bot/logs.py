"""Logging that never carries what people write or any token."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime

# These log request and response bodies (private text) and headers (tokens) at DEBUG, and
# SQLAlchemy logs every statement at INFO: hold each at the lowest level that is safe.
CHATTY_LOGGERS = {
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "bot.bolt": logging.INFO,
    "aiohttp.client": logging.INFO,
    "aiosqlite": logging.INFO,  # logs each statement with its values at DEBUG
    "psycopg": logging.INFO,
    "sqlalchemy.engine": logging.WARNING,
    "sqlalchemy.pool": logging.WARNING,
    # Not private, only noisy: "setup plugin …" seven times and its dialect on every start.
    # bot.migrate says in one line of its own which revision the database is at.
    "alembic": logging.WARNING,
}


# Bolt lines that quote a whole request (or response) body, by how they start, and what we log
# instead. A wrong or rotated signing secret, or a clock five minutes off, would otherwise put
# every reflection sent to us into the log at INFO.
BODY_LINES = {
    "Invalid request signature detected": (
        "A request failed Slack's signature check and got 401; its body is not logged. "
        "Check SLACK_SIGNING_SECRET and the server clock"
    ),
    "A global middleware": "A global middleware gave no response; the request is not logged",
    "Unhandled request": "Unhandled request; its body is not logged",
    "Responding with": "Responding to Slack; the body is not logged",
}
# Filters on a logger only see records made on that very logger, not ones propagated from
# its children: so each logger that writes those lines gets the filter itself. Bolt's request
# check logs on its own logger; everything else Bolt says goes through the app's logger.
BODY_LOGGERS = ("slack_bolt.RequestVerification", "bot.bolt")


class NoRequestBodies(logging.Filter):
    """Keep Bolt's line that something happened; drop the request body it quotes."""

    lines = BODY_LINES

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        for start, instead in self.lines.items():
            if message.startswith(start):
                record.msg, record.args = instead, ()
        return True


# Lines of Bolt's OAuth flow and slack_sdk's OAuth state store that quote an install's one-time
# code or its state (either would let someone finish an install as the person who started it),
# and what we log instead. They log on the logger they are given: ours.
OAUTH_LINES = {
    "Failed to fetch oauth.v2.access result with code": (
        "Slack did not accept an install's code; the code is not logged"
    ),
    "consume's query result": "An install link's state was used; its value is not logged",
    "Failed to find any persistent data for state": (
        "An install link's state could not be checked in the database; its value is not logged"
    ),
}


class NoOAuthSecrets(NoRequestBodies):
    """Keep the OAuth line that something happened; drop the code or state it quotes."""

    lines = OAUTH_LINES


def keep_oauth_secrets_out(logger: logging.Logger) -> logging.Logger:
    """`logger`, given to Bolt's OAuth flow or slack_sdk's state store, with `NoOAuthSecrets`."""
    if not any(isinstance(f, NoOAuthSecrets) for f in logger.filters):
        logger.addFilter(NoOAuthSecrets())
    return logger


def hold_chatty_loggers() -> None:
    """Keep body-logging libraries quiet enough, whatever LOG_LEVEL says."""
    for name, floor in CHATTY_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < floor:
            logger.setLevel(floor)
    for name in BODY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoRequestBodies) for f in logger.filters):
            logger.addFilter(NoRequestBodies())


def log_failure(logger: logging.Logger, message: str, *args: object) -> None:
    """Log the exception being handled: what kind it was and where, never its text.

    Database errors quote what they refused (PostgreSQL: "Failing row contains (…)"), and a
    refused reflection's row holds the person's own words."""
    error = sys.exc_info()[1]
    where = "".join(traceback.format_tb(error.__traceback__)) if error else ""
    logger.error(f"{message}: %s\n%s", *args, error_kinds(error), where.rstrip(), stacklevel=2)


def error_kinds(error: BaseException | None) -> str:
    """`IntegrityError <- CheckViolation [23514]`: each cause's type and error code only."""
    kinds: list[str] = []
    while error is not None and len(kinds) < 5:
        code = getattr(error, "sqlstate", None) or getattr(error, "sqlite_errorname", None)
        kinds.append(f"{type(error).__name__} [{code}]" if code else type(error).__name__)
        error = error.__cause__ or error.__context__
    return " <- ".join(kinds) or "no exception"


# What a record may carry besides its message (passed with `extra=`): ids and measures only.
CONTEXT_FIELDS = ("team_id", "user_id", "request_kind", "duration_ms")
# Loggers that say something every minute at INFO (APScheduler's "Running job …" and "… executed
# successfully"): worth seeing only when debugging.
EVERY_MINUTE_LOGGERS = ("apscheduler.executors.default", "apscheduler.scheduler")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the context fields given."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class EveryMinuteToDebug(logging.Filter):
    """Demote a routine INFO line to DEBUG, and let it through only when DEBUG is on."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def configure_logging(level: int, log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    if not root.handlers:  # as logging.basicConfig: a host that set up logging keeps its own
        root.addHandler(handler)
    root.setLevel(level)
    for name in EVERY_MINUTE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, EveryMinuteToDebug) for f in logger.filters):
            logger.addFilter(EveryMinuteToDebug())
    hold_chatty_loggers()
