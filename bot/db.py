"""Database engines and sessions. Plain sqlite:/// and postgresql:// URLs get async drivers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")
logger = logging.getLogger(__name__)

# PostgreSQL errors that a second try can get past: serialisation failure, deadlock, and the
# server ending or dropping the connection (pg_terminate_backend, a failover, a restart).
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "57P01", "57P02", "57P03"})
TRANSIENT_SQLSTATE_CLASSES = ("08",)  # connection exceptions
# Waits between tries: all of them fit well inside the 3 seconds Slack gives a request.
RETRY_DELAYS = (0.05, 0.15, 0.35, 0.7)
RETRY_BUDGET = 2.0  # seconds; no try starts after this, however many delays are left


def async_url(url: str) -> URL:
    """`sqlite:///x.db` → aiosqlite, `postgresql://…` → psycopg 3."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+asyncpg"):
        return parsed.set(drivername="postgresql+psycopg")
    return parsed


def sync_url(url: str) -> URL:
    """The same database through a synchronous driver (for Alembic)."""
    parsed = async_url(url)
    if parsed.drivername == "sqlite+aiosqlite":
        return parsed.set(drivername="sqlite")
    return parsed  # psycopg 3 serves both sync and async


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = async_url(url)
    options: dict[str, Any] = dict(kwargs)
    if parsed.get_backend_name() == "sqlite":
        if "timeout" not in parsed.query:  # `?timeout=` in the URL sets the lock wait instead
            options.setdefault("connect_args", {"timeout": 30})
        # A connection goes back to the pool only after its transaction ended (committed, or
        # rolled back by `close`): a second rollback on return is one more trip to aiosqlite's
        # thread per session for nothing.
        options.setdefault("pool_reset_on_return", None)
        # Reads wait for no writer's turn, so a burst has more connections in use at once than
        # the default 5; those beyond the pool are closed as they come back, and opening one
        # starts a thread and sets the pragmas again (once every sixth command, 8 at a time).
        # An in-memory database has one connection (a static pool) and takes no pool size.
        in_memory = (
            parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
        )
        if not in_memory:
            options.setdefault("pool_size", 20)
    else:
        options.setdefault("pool_pre_ping", True)
        options.setdefault("pool_size", 10)
    options.setdefault("hide_parameters", True)  # values may be private text; never log them
    engine = create_async_engine(parsed, **options)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class WriteTurn:
    """One writing transaction at a time in this process, in arrival order (SQLite only).

    SQLite lets one writer in at a time and makes the others poll for the lock, with waits that
    grow the longer they wait; under a burst some wait seconds. Taking turns in the process is
    fair and wastes nothing. Re-entrant within a task, so a transaction opened inside another
    by the same task waits on nothing here (it would wait on SQLite itself, as before)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        if self._owner is not task or task is None:
            await self._lock.acquire()
            self._owner = task
        self._depth += 1

    async def __aexit__(self, *_exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class _TakingTurns:
    """`session.begin()` that first waits its turn to write."""

    def __init__(self, turn: WriteTurn, transaction: Any) -> None:
        self._turn = turn
        self._transaction = transaction

    async def __aenter__(self) -> Any:
        await self._turn.__aenter__()
        try:
            return await self._transaction.__aenter__()
        except BaseException:
            await self._turn.__aexit__()
            raise

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._transaction.__aexit__(*exc)
        finally:
            await self._turn.__aexit__()


def session_factory(engine: AsyncEngine) -> Sessions:
    if engine.dialect.name != "sqlite":
        return async_sessionmaker(engine, expire_on_commit=False)
    turn = WriteTurn()

    class TurnTakingSession(AsyncSession):
        def begin(self) -> Any:
            return _TakingTurns(turn, super().begin())

    return async_sessionmaker(engine, class_=TurnTakingSession, expire_on_commit=False)


async def database_answers(engine: AsyncEngine) -> bool:
    """True when a trivial query succeeds (for /readyz)."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def redacted(url: str | URL) -> str:
    """A URL safe to print: no password."""
    return make_url(str(url)).render_as_string(hide_password=True)


def is_transient(error: DBAPIError) -> bool:
    """A database error that may well not happen again: worth another try."""
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None)
    if isinstance(state, str) and (
        state in TRANSIENT_SQLSTATES or state.startswith(TRANSIENT_SQLSTATE_CLASSES)
    ):
        return True
    return "database is locked" in str(error.orig)  # SQLite: another writer held on too long


async def retrying(work: Callable[[], Awaitable[T]], what: str) -> T:
    """Run `work` (one whole transaction), again after a short wait if it fails for a transient
    reason. Only for work that is safe to repeat. `what` names it in the logs: no values."""
    started = time.monotonic()
    delays = iter(RETRY_DELAYS)
    while True:
        try:
            return await work()
        except DBAPIError as error:
            delay = next(delays, None)
            if (
                delay is None
                or time.monotonic() - started + delay > RETRY_BUDGET
                or not is_transient(error)
            ):
                raise
            logger.warning(
                "%s: transient database error (%s, sqlstate %s); trying again",
                what,
                type(error.orig).__name__,
                getattr(error.orig, "sqlstate", None) or "-",
            )
            await asyncio.sleep(delay)
