"""Database engines and sessions. Plain sqlite:/// and postgresql:// URLs get async drivers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

Sessions = async_sessionmaker[AsyncSession]


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
        options.setdefault("connect_args", {"timeout": 30})
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


def session_factory(engine: AsyncEngine) -> Sessions:
    return async_sessionmaker(engine, expire_on_commit=False)


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
