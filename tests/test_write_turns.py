"""SQLite: writing transactions take turns in the process (bot.db.WriteTurn), and no one's
turn (nor, on PostgreSQL, their transaction) is held open while Slack is asked something."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from sqlalchemy import event, select

from bot.db import WriteTurn, _TakingTurns, create_engine, session_factory
from bot.migrate import upgrade
from bot.models import Member, Workspace
from tests.conftest import RunningApp
from tests.helpers import schedule_of

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


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


async def test_a_tip_is_answered_while_someone_else_waits_on_slack_for_their_zone(
    app: RunningApp,
) -> None:
    """`weekly` asks Slack for the person's zone before the transaction that stores it: while
    that answer is slow to come, another person's tip (a write) is answered at once."""
    held = app.sim.hold("users.info")
    weekly = await app.slack.slash("weekly wed 7:15")
    assert weekly.status == 200
    await app.sim.wait_for("users.info")  # asked, and the answer is still on its way
    tip = await asyncio.wait_for(app.slack.slash("tip", user_id="U0002"), timeout=5)
    assert tip.status == 200 and tip.json()["response_type"] == "ephemeral"
    held.set()
    [answer] = await app.sim.wait_for("response_url")
    assert "Wednesday" in str(answer.body)
    schedule = await schedule_of(app)
    assert (schedule.weekday, schedule.local_minutes) == (2, 7 * 60 + 15)
    async with app.ctx.sessions() as session:
        checked = await session.scalar(
            select(Member.tz_checked_at).where(Member.user_id == "U0001")
        )
    assert checked is not None  # the zone Slack gave was stored after the call, not before


async def test_the_home_tab_reads_a_schedule_without_waiting_for_a_writer(
    app: RunningApp,
) -> None:
    """Showing Home only reads: it is drawn while another task holds the writer's turn."""
    await app.slack.slash("weekly")
    await app.sim.wait_for("response_url")
    holding = asyncio.Event()
    let_go = asyncio.Event()

    async def long_writer() -> None:
        async with app.ctx.sessions() as session, session.begin():
            holding.set()
            await let_go.wait()

    writer = asyncio.create_task(long_writer())
    await holding.wait()
    home = await asyncio.wait_for(app.ctx.home.model("T0001", "U0001"), timeout=5)
    assert home.view.status == "active"
    let_go.set()
    await writer


@ON_SQLITE
async def test_a_burst_of_commands_reuses_the_pooled_connections(app: RunningApp) -> None:
    """Once twelve connections have been in use at once, twelve people at once open no more:
    they all went back to the pool (one beyond it would have been closed on return, and each
    new one starts a thread and sets the pragmas again)."""
    async with AsyncExitStack() as stack:
        for _ in range(12):
            await stack.enter_async_context(app.ctx.engine.connect())
    opened: list[object] = []
    event.listen(app.ctx.engine.sync_engine, "connect", lambda *_: opened.append(None))
    people = [f"U{n:04d}" for n in range(12)]
    replies = await asyncio.gather(*(app.slack.slash("tip", user_id=p) for p in people))
    assert [reply.status for reply in replies] == [200] * 12
    assert await app.ctx.in_flight.wait_idle()
    assert opened == []
