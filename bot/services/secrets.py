"""`leading-bot keys rotate`: every stored secret re-encrypted with the first key, in batches.

Each batch is its own transaction, so an interrupted run keeps what it did; running it again
skips what already uses the first key and carries on. A value the app changes meanwhile is not
overwritten (it was written with the first key anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, Table, select, update

from bot.config import ConfigError
from bot.crypto import Keyring
from bot.db import Sessions
from bot.models import Reflection, slack_bots, slack_installations
from bot.services.installations import TOKEN_FIELDS

ROTATE_BATCH = 500


@dataclass
class RotationSummary:
    reflections: int = 0
    tokens: int = 0
    already: int = 0

    def line(self) -> str:
        return (
            f"Re-encrypted {_count(self.reflections, 'reflection')} and "
            f"{_count(self.tokens, 'Slack token')} with the first key; "
            f"{self.already} already used it."
        )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


async def rotate_keys(
    sessions: Sessions, keyring: Keyring, *, batch_size: int = ROTATE_BATCH
) -> RotationSummary:
    summary = RotationSummary()
    reflections = cast(Table, Reflection.__table__)
    summary.reflections = await _rotate(
        sessions, keyring, reflections, reflections.c.id, reflections.c.text, batch_size, summary
    )
    for table in (slack_installations, slack_bots):  # installs' tokens, refresh tokens too
        for name in TOKEN_FIELDS:
            if name in table.c:
                summary.tokens += await _rotate(
                    sessions, keyring, table, table.c.id, table.c[name], batch_size, summary
                )
    return summary


async def _rotate(
    sessions: Sessions,
    keyring: Keyring,
    table: Table,
    key: Column[Any],
    value: Column[Any],
    batch_size: int,
    summary: RotationSummary,
) -> int:
    rotated = 0
    last: Any = None
    while True:
        async with sessions() as session, session.begin():
            query = select(key, value).where(value.is_not(None)).order_by(key).limit(batch_size)
            if last is not None:
                query = query.where(key > last)
            rows = (await session.execute(query)).all()
            if not rows:
                return rotated
            for row_key, stored in rows:
                if keyring.under_first_key(stored):
                    summary.already += 1
                    continue
                try:
                    fresh = keyring.rotate(stored)
                except InvalidToken:
                    raise ConfigError(
                        f"Configuration error: ENCRYPTION_KEYS: {table.name} row "
                        f"{row_key} can't be read with any of the keys. Add the key it was "
                        "written with (after the first), then run `leading-bot keys rotate` again."
                    ) from None
                result = await session.execute(
                    update(table).where(key == row_key, value == stored).values({value: fresh})
                )
                rotated += int(result.rowcount or 0)  # type: ignore[attr-defined]
            last = rows[-1][0]
