"""Alembic environment: runs migrations through a synchronous driver."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from bot.db import sync_url
from bot.models import Base

config = context.config
url: str = config.attributes["database_url"]  # set by bot.migrate.alembic_config, the only way in


def run_offline() -> None:
    context.configure(url=str(sync_url(url)), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas may start together: one migrates, the others wait and find nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(7468201)"))
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
