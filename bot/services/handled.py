"""Command words typed in a DM are answered once, however often Slack delivers the message.

Slack retries an event it thinks we missed (`X-Slack-Retry-Num`), perhaps to another replica.
The first to note the message's key (team, channel, ts) answers it; the others see the key.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from bot.db import Sessions
from bot.models import HandledCommand
from bot.services.store import insert_ignoring_duplicates

logger = logging.getLogger(__name__)

# Slack retries an event three times within minutes; a few days is plenty, and stays small.
KEEP_HANDLED = timedelta(days=3)


async def first_time(
    sessions: Sessions, team_id: str, channel_id: str, ts: str, now: datetime
) -> bool:
    """True the first time a message's command is handled, False for Slack's repeats of it.

    Not tried again after an error (a repeat of a write whose commit was lost would say "seen"
    and the command would go unanswered): if the note can't be written, answer anyway."""
    try:
        async with sessions() as session, session.begin():
            key = await insert_ignoring_duplicates(
                session,
                HandledCommand,
                {"team_id": team_id, "channel_id": channel_id, "message_ts": ts, "handled_at": now},
                returning=HandledCommand.message_ts,
            )
    except SQLAlchemyError as error:
        logger.warning(
            "noting a DM command from %s failed (%s); answering it anyway",
            team_id,
            type(error).__name__,
        )
        return True
    return key is not None


async def forget_handled(sessions: Sessions, now: datetime) -> int:
    """Daily: drop the keys of commands handled more than KEEP_HANDLED ago."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(HandledCommand).where(HandledCommand.handled_at < now - KEEP_HANDLED)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
