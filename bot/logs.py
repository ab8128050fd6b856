"""Logging that never carries what people write or any token."""

from __future__ import annotations

import logging
import sys

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


def hold_chatty_loggers() -> None:
    """Keep body-logging libraries quiet enough, whatever LOG_LEVEL says."""
    for name, floor in CHATTY_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < floor:
            logger.setLevel(floor)


def configure_logging(level: int) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    hold_chatty_loggers()
