"""What every surface needs, built once per process: settings, database, content, clock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.content import Library, load_library
from bot.db import Sessions, create_engine, session_factory
from bot.services.rotation import Rotation


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: Sessions
    library: Library
    clock: Clock
    rotation: Rotation

    async def close(self) -> None:
        await self.engine.dispose()


def build_context(
    settings: Settings, *, clock: Clock = system_clock, library: Library | None = None
) -> AppContext:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    library = library or load_library()
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions,
        library=library,
        clock=clock,
        rotation=Rotation(sessions, library, clock),
    )
