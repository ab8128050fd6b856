"""Real database faults for tests, on SQLite and PostgreSQL alike: nothing of ours is mocked.

- `refuse_inserts`: a trigger that makes every INSERT into a table fail (a persistent fault).
- `rename_table`: the table is not where the app looks for it (a persistent fault).
- `TableLock`: another connection holds a write lock on a table, as a long transaction would.
  On SQLite the app's wait for it runs out ("database is locked"); on PostgreSQL the app waits,
  and `break_waiters` ends the waiting connections with pg_terminate_backend, mid-transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Connection, NullPool, create_engine, make_url, text

from bot.db import sync_url


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


@contextmanager
def _connection(database_url: str) -> Iterator[Connection]:
    engine = create_engine(sync_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _run(database_url: str, *statements: str) -> None:
    with _connection(database_url) as connection:
        for statement in statements:
            connection.execute(text(statement))
        connection.commit()


@contextmanager
def refuse(database_url: str, table: str, statement: str = "INSERT") -> Iterator[None]:
    """Every `statement` (INSERT, UPDATE or DELETE) on `table` raises, until the block ends."""
    trigger = f"refuse_{statement.lower()}_{table}"
    if _is_sqlite(database_url):
        _run(
            database_url,
            f"CREATE TRIGGER {trigger} BEFORE {statement} ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
    else:
        _run(
            database_url,
            "CREATE OR REPLACE FUNCTION refuse_by_test() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
            f"CREATE TRIGGER {trigger} BEFORE {statement} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse_by_test()",
        )
    try:
        yield
    finally:
        suffix = "" if _is_sqlite(database_url) else f" ON {table}"
        _run(database_url, f"DROP TRIGGER {trigger}{suffix}")


def refuse_inserts(database_url: str, table: str) -> AbstractContextManager[None]:
    return refuse(database_url, table, "INSERT")


def refuse_deletes(database_url: str, table: str) -> AbstractContextManager[None]:
    return refuse(database_url, table, "DELETE")


@contextmanager
def fail_first_insert(database_url: str, table: str, sqlstate: str) -> Iterator[None]:
    """PostgreSQL only: the first INSERT into `table` fails with `sqlstate` (e.g. 40001, a
    serialisation failure), as a concurrent transaction would make it; later ones succeed."""
    trigger = f"fail_first_{table}"
    _run(
        database_url,
        "CREATE SEQUENCE fail_first_by_test",  # not rolled back with the failed transaction
        "CREATE OR REPLACE FUNCTION fail_first_by_test() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN IF nextval('fail_first_by_test') = 1 THEN "
        f"RAISE EXCEPTION 'made by the test' USING ERRCODE = '{sqlstate}'; "
        "END IF; RETURN NEW; END $$",
        f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION fail_first_by_test()",
    )
    try:
        yield
    finally:
        _run(
            database_url,
            f"DROP TRIGGER {trigger} ON {table}",
            "DROP FUNCTION fail_first_by_test()",
            "DROP SEQUENCE fail_first_by_test",
        )


@contextmanager
def rename_table(database_url: str, table: str) -> Iterator[None]:
    """`table` is missing (renamed away) until the block ends."""
    _run(database_url, f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        yield
    finally:
        _run(database_url, f"ALTER TABLE {table}_away RENAME TO {table}")


class TableLock:
    """A write lock on `table` held by another connection until `release`."""

    def __init__(self, database_url: str, table: str) -> None:
        self._sqlite = _is_sqlite(database_url)
        if self._sqlite:
            path = make_url(database_url).database
            self._file = sqlite3.connect(str(path), isolation_level=None)
            self._file.execute("BEGIN IMMEDIATE")  # the database's one write lock
            return
        self._engine = create_engine(sync_url(database_url), poolclass=NullPool)
        self._pg = self._engine.connect()
        self._pg.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        self._pid = self._pg.execute(text("SELECT pg_backend_pid()")).scalar_one()
        # Looks from outside the lock's transaction, which would see one frozen snapshot of
        # pg_stat_activity.
        self._watch = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def break_waiters(self) -> int:
        """PostgreSQL: end the connections waiting for this lock (pg_terminate_backend)."""
        if self._sqlite:
            return 0  # SQLite's own lock wait runs out and fails the app's statement
        return len(
            self._watch.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE :me = ANY(pg_blocking_pids(pid))"
                ),
                {"me": self._pid},
            ).all()
        )

    async def break_waiters_until(self, done: Callable[[], bool], timeout: float = 10.0) -> int:
        """Keep ending waiting connections until `done()`; returns how many were ended."""
        ended = 0
        deadline = asyncio.get_running_loop().time() + timeout
        while not done():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the app never got to where the test waited for it")
            ended += self.break_waiters()
            await asyncio.sleep(0.005)
        return ended

    def release(self) -> None:
        if self._sqlite:
            self._file.execute("ROLLBACK")
            self._file.close()
            return
        self._pg.rollback()
        self._pg.close()
        self._watch.close()
        self._engine.dispose()
