"""Uninstall and revocation (multi-workspace mode): tokens forgotten, sending stopped at once,
every row of the workspace purged UNINSTALL_PURGE_DAYS later unless the app is reinstalled.

Bolt runs only the first listener that matches an event, so ours (bot.handlers.workspace_events)
also does what Bolt's built-in token-revocation listeners would: delete the installs from the
installation store. A dispatch pass already under way checks the workspace before each send
(`active_among`), so a nudge claimed before the uninstall is not sent after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from bot.db import Sessions
from bot.models import (
    Cohort,
    CohortLead,
    Delivery,
    HandledCommand,
    Member,
    Reflection,
    Schedule,
    SeasonSummary,
    SeenItem,
    Workspace,
    slack_bots,
    slack_installations,
)
from bot.services.installations import Installations, Place
from bot.services.workspaces import TOKENS_REVOKED, UNINSTALLED, deactivate_workspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stopped:
    """What an uninstall or revocation stopped."""

    workspaces: int = 0
    schedules: int = 0
    user_tokens: int = 0  # people whose user tokens were removed


async def uninstall(
    installations: Installations, sessions: Sessions, place: Place, now: datetime
) -> Stopped:
    """`app_uninstalled`: stop every schedule of the workspace (org-wide: of every workspace of
    the org) and mark it for purging, then delete its installs and bot token."""
    if _nowhere(place):
        return Stopped()
    teams = await _teams_of(sessions, place)
    schedules = 0
    async with sessions() as session, session.begin():
        for team_id in teams:
            schedules += await deactivate_workspace(session, team_id, UNINSTALLED, now)
        await session.execute(
            update(Workspace)
            .where(Workspace.team_id.in_(teams), Workspace.uninstalled_at.is_(None))
            .values(uninstalled_at=now)
        )
    if installations.store is not None:
        await installations.store.async_delete_all(
            enterprise_id=place.enterprise_id, team_id=_install_team(place)
        )
    return Stopped(workspaces=len(teams), schedules=schedules)


async def revoke_tokens(
    installations: Installations,
    sessions: Sessions,
    place: Place,
    *,
    user_ids: Iterable[str],
    bot: bool,
    now: datetime,
) -> Stopped:
    """`tokens_revoked`: each listed person's user token goes (their installs, as Bolt's
    built-in does: the bot is kept in `slack_bots`); the bot token too when it was revoked,
    and then the workspace stops."""
    if _nowhere(place):
        return Stopped()
    store = installations.store
    people = sorted(set(user_ids))
    if store is not None:
        for user_id in people:
            await store.async_delete_installation(
                enterprise_id=place.enterprise_id, team_id=_install_team(place), user_id=user_id
            )
    if not bot:
        return Stopped(user_tokens=len(people))
    if store is not None:
        await store.async_delete_bot(
            enterprise_id=place.enterprise_id, team_id=_install_team(place)
        )
    teams = await _teams_of(sessions, place)
    schedules = 0
    async with sessions() as session, session.begin():
        for team_id in teams:
            schedules += await deactivate_workspace(session, team_id, TOKENS_REVOKED, now)
    return Stopped(workspaces=len(teams), schedules=schedules, user_tokens=len(people))


async def purge_uninstalled(sessions: Sessions, now: datetime, days: int) -> list[str]:
    """Daily: delete every row of each workspace uninstalled `days` or more days ago and not
    reinstalled since: its people, their schedules, nudges, reflections and seen items, its
    handled commands and any install left. Returns the workspaces purged."""
    cutoff = now - timedelta(days=days)
    async with sessions() as session:
        due = list(
            await session.scalars(
                select(Workspace.team_id).where(Workspace.uninstalled_at <= cutoff)
            )
        )
    purged = []
    for team_id in due:
        if await _purge(sessions, team_id, cutoff):
            purged.append(team_id)
    return purged


async def _purge(sessions: Sessions, team_id: str, cutoff: datetime) -> bool:
    async with sessions() as session, session.begin():
        # Locked and checked again: a reinstall since the look-up keeps everything.
        still_due = await session.scalar(
            select(Workspace.team_id)
            .where(Workspace.team_id == team_id, Workspace.uninstalled_at <= cutoff)
            .with_for_update()
        )
        if still_due is None:
            return False
        for model in (
            Reflection,
            Delivery,
            Schedule,
            SeenItem,
            SeasonSummary,
            Member,
            HandledCommand,
            CohortLead,
            Cohort,
        ):
            await session.execute(delete(model).where(model.team_id == team_id))
        for table in (slack_installations, slack_bots):
            await session.execute(delete(table).where(table.c.team_id == team_id))
        await session.execute(delete(Workspace).where(Workspace.team_id == team_id))
    return True


def _nowhere(place: Place) -> bool:
    """An event naming neither a workspace nor an org: the store would read that as "every
    install outside an org" (`IS NULL`), so nothing is touched."""
    return not place.team_id and not place.enterprise_id


def _install_team(place: Place) -> str | None:
    """The team an install is kept under: none for an org-wide install."""
    return None if place.is_enterprise_install else place.team_id


async def _teams_of(sessions: Sessions, place: Place) -> list[str]:
    """The workspaces an install served: every workspace of the org for an org-wide install."""
    if place.is_enterprise_install and place.enterprise_id:
        async with sessions() as session:
            return list(
                await session.scalars(
                    select(Workspace.team_id).where(Workspace.enterprise_id == place.enterprise_id)
                )
            )
    return [place.team_id] if place.team_id else []
