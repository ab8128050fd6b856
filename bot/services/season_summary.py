"""Season summaries: every 12 weeks, counted from a person's first reflection, one private DM
with how many weeks they reflected, the items they came back to most, and a few of their own
lines from different weeks, with a button to export the whole journal.

Only for a season with at least MIN_REFLECTIONS reflections, and only while the person has
"Show me my earlier reflections" on. Only the season just ended is summarised: a scheduler back
from downtime never sends an old one. Exactly once however many schedulers run: the summary is
claimed by inserting its row, whose unique (team, user, season) key lets only one insert win,
before anything is sent; one that fails is not tried again. The words are decrypted only when
the message is built, and never logged. Deleted, forgotten and retention-expired reflections
are simply not there to draw on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import and_, func, select, update

from bot.clock import Clock
from bot.crypto import Keyring
from bot.db import Sessions
from bot.models import Member, Reflection, SeasonSummary, Workspace
from bot.services.store import insert_ignoring_duplicates
from bot.values import SeasonWords

logger = logging.getLogger(__name__)

SEASON = timedelta(weeks=12)
WEEK = timedelta(weeks=1)
MIN_REFLECTIONS = 3
MOST_ITEMS = 3  # items named
MOST_LINES = 3  # of their own lines, each from a different week

ClientFor = Callable[[str, str | None], Awaitable[AsyncWebClient | None]]
Draw = Callable[[SeasonWords], dict[str, Any]]


@dataclass(frozen=True)
class SeasonPass:
    sent: int = 0
    failed: int = 0


def _spread(weeks: list[int], count: int) -> list[int]:
    """Up to `count` of the sorted `weeks`, spread from first to last."""
    if len(weeks) <= count:
        return weeks
    step = (len(weeks) - 1) / (count - 1)
    return [weeks[round(i * step)] for i in range(count)]


def words_of(rows: list[tuple[datetime, str | None, str]], start: datetime) -> SeasonWords:
    """(written at, item id, decrypted text) of one season's reflections, oldest first."""
    by_week: dict[int, str] = {}
    for at, _, text in rows:
        week = (at - start) // WEEK
        if text.strip() and len(text.strip()) > len(by_week.get(week, "")):
            by_week[week] = text.strip()  # the fullest line of each week
    counts = Counter(item_id for _, item_id, _ in rows if item_id)
    most = tuple(item_id for item_id, _ in counts.most_common(MOST_ITEMS))
    weeks = len({(at - start) // WEEK for at, _, _ in rows})
    lines = tuple(by_week[w] for w in _spread(sorted(by_week), MOST_LINES))
    return SeasonWords(weeks, most, lines)


class SeasonSummaries:
    def __init__(self, sessions: Sessions, clock: Clock, keyring: Keyring, draw: Draw) -> None:
        self._sessions = sessions
        self._clock = clock
        self._keyring = keyring
        self._draw = draw

    async def sent_count(self, team_id: str) -> int:
        """How many summaries a workspace's people were sent: all its admins ever see of them."""
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(SeasonSummary)
                .where(SeasonSummary.team_id == team_id, SeasonSummary.status == "sent")
            )
        return int(count or 0)

    async def run_pass(self, client_for: ClientFor) -> SeasonPass:
        """Send each summary due now and not yet claimed."""
        now = self._clock()
        async with self._sessions() as session:
            people = (
                await session.execute(
                    select(
                        Reflection.team_id,
                        Reflection.user_id,
                        Workspace.enterprise_id,
                        func.min(Reflection.created_at),
                    )
                    .join(
                        Member,
                        and_(
                            Member.team_id == Reflection.team_id,
                            Member.user_id == Reflection.user_id,
                        ),
                    )
                    .join(Workspace, Workspace.team_id == Reflection.team_id)
                    .where(Member.look_back, Workspace.active.is_(True))
                    .group_by(Reflection.team_id, Reflection.user_id, Workspace.enterprise_id)
                )
            ).all()
        sent = failed = 0
        for team_id, user_id, enterprise_id, first in people:
            season = (now - first) // SEASON - 1  # the season that ended last
            if season < 0:
                continue
            start = first + season * SEASON
            claim = await self._claim(team_id, user_id, season, start, now)
            if claim is None:
                continue
            summary_id, rows = claim
            ok = await self._send(
                team_id, user_id, enterprise_id, summary_id, rows, start, client_for
            )
            sent, failed = sent + ok, failed + (not ok)
        return SeasonPass(sent, failed)

    async def _claim(
        self, team_id: str, user_id: str, season: int, start: datetime, now: datetime
    ) -> tuple[int, list[Reflection]] | None:
        """The season's reflections and its claimed row, or None when there are too few or
        another pass has it."""
        async with self._sessions() as session, session.begin():
            claimed = await session.scalar(
                select(SeasonSummary.id).where(  # the unique key's index: cheap every hour
                    SeasonSummary.team_id == team_id,
                    SeasonSummary.user_id == user_id,
                    SeasonSummary.season == season,
                )
            )
            if claimed is not None:
                return None
            rows = list(
                await session.scalars(
                    select(Reflection)
                    .where(
                        Reflection.team_id == team_id,
                        Reflection.user_id == user_id,
                        Reflection.created_at >= start,
                        Reflection.created_at < start + SEASON,
                    )
                    .order_by(Reflection.created_at, Reflection.id)
                )
            )
            if len(rows) < MIN_REFLECTIONS:
                return None
            summary_id = await insert_ignoring_duplicates(
                session,
                SeasonSummary,
                {
                    "team_id": team_id,
                    "user_id": user_id,
                    "season": season,
                    "status": "claimed",
                    "claimed_at": now,
                },
                returning=SeasonSummary.id,
            )
        return None if summary_id is None else (int(summary_id), rows)

    async def _send(
        self,
        team_id: str,
        user_id: str,
        enterprise_id: str | None,
        summary_id: int,
        rows: list[Reflection],
        start: datetime,
        client_for: ClientFor,
    ) -> bool:
        client = await client_for(team_id, enterprise_id)
        status = "failed"
        if client is None:
            logger.warning("season summary for %s/%s: no token", team_id, user_id)
        else:
            words = words_of(
                [(r.created_at, r.item_id, self._keyring.decrypt(r.text)) for r in rows], start
            )
            try:
                opened = await client.conversations_open(users=user_id)
                await client.chat_postMessage(channel=opened["channel"]["id"], **self._draw(words))
                status = "sent"
            except SlackApiError as error:
                code = str(error.response.get("error") or "")
                logger.warning("season summary for %s/%s failed: %s", team_id, user_id, code)
            except (TimeoutError, aiohttp.ClientError, OSError) as error:
                # It may have gone: never tried again, so never sent twice.
                logger.warning(
                    "season summary for %s/%s: connection problem (%s)",
                    team_id,
                    user_id,
                    type(error).__name__,
                )
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(SeasonSummary)
                .where(SeasonSummary.id == summary_id)
                .values(status=status, sent_at=self._clock() if status == "sent" else None)
            )
        return status == "sent"
