"""SQLite: writing transactions take turns in the process (bot.db.WriteTurn)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db import WriteTurn, _TakingTurns, create_engine, session_factory
from bot.migrate import upgrade
from bot.models import Workspace


@pytest.fixture
async def sessions(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'turns.db'}"
    upgrade(url)
    engine = create_engine(url)
    yield session_factory(engine)
    await engine.dispose()


async def test_a_second_writer_waits_for_the_first_to_finish(sessions) -> None:  # type: ignore[no-untyped-def]
    order: list[str] = []
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def first() -> None:
        async with sessions() as session, session.begin():
            order.append("first in")
            first_in.set()
            await let_go.wait()
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with sessions() as session, session.begin():
            order.append("second in")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_in.wait()
    for _ in range(20):  # every chance to get in
        await asyncio.sleep(0)
    assert order == ["first in"]  # the second is waiting its turn
    let_go.set()
    await asyncio.gather(*tasks)
    assert order == ["first in", "first out", "second in"]


async def test_a_transaction_inside_another_in_the_same_task_does_not_wait_on_itself(
    sessions,  # type: ignore[no-untyped-def]
) -> None:
    async with sessions() as outer, outer.begin(), sessions() as inner, inner.begin():
        assert await inner.scalar(select(Workspace.team_id)) is None
    async with sessions() as again, again.begin():  # the turn was given back
        pass


class Refusing:
    async def __aenter__(self) -> None:
        raise ConnectionError("the database went away")

    async def __aexit__(self, *_exc: object) -> None:
        raise AssertionError("never entered")


async def test_a_transaction_that_cannot_start_gives_its_turn_back() -> None:
    turn = WriteTurn()
    with pytest.raises(ConnectionError):
        async with _TakingTurns(turn, Refusing()):
            pass

    async def next_writer() -> None:
        async with turn:
            pass

    await asyncio.wait_for(asyncio.create_task(next_writer()), timeout=1)


async def test_postgresql_sessions_do_not_take_turns(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        session = session_factory(engine)()
        assert type(session.begin()).__name__ == "AsyncSessionTransaction"
        await session.close()
    finally:
        await engine.dispose()
