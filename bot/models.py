"""Tables. Every person is keyed by Slack team_id + user_id; the schema is made only by Alembic."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Instants in, instants out: stored as UTC (SQLite has no zone), read back aware in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware instant")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def member_key() -> ForeignKeyConstraint:
    """(team_id, user_id) → members: deleting a person deletes everything of theirs."""
    return ForeignKeyConstraint(
        ["team_id", "user_id"], ["members.team_id", "members.user_id"], ondelete="CASCADE"
    )


class Workspace(Base):
    __tablename__ = "workspaces"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Enterprise Grid: the org this workspace belongs to. An org-wide install's token is found
    # by this id, so two workspaces of one org share a token and never their data.
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deactivated_reason: Mapped[str | None] = mapped_column(String(64))
    # Multi-workspace mode: when the app was uninstalled. Every row of the workspace is purged
    # UNINSTALL_PURGE_DAYS later, unless a reinstall clears this first.
    uninstalled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# slack_sdk's installation and OAuth state stores read and write these three tables; the schema
# is ours (Alembic), written to match `AsyncSQLAlchemyInstallationStore` and
# `AsyncSQLAlchemyOAuthStateStore`, with room for encrypted tokens (bot.services.installations).
def _installation_columns(*, with_user: bool) -> list[Column[Any]]:
    columns: list[Column[Any]] = [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        Column("bot_token", Text),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", Text),
        Column("bot_token_expires_at", DateTime),
        Column("is_enterprise_install", Boolean, nullable=False, default=False),
        Column("installed_at", DateTime, nullable=False),
    ]
    if with_user:
        columns[-2:-2] = [
            Column("enterprise_url", String(200)),
            Column("user_id", String(32), nullable=False),
            Column("user_token", Text),
            Column("user_scopes", String(1000)),
            Column("user_refresh_token", Text),
            Column("user_token_expires_at", DateTime),
            Column("incoming_webhook_url", Text),
            Column("incoming_webhook_channel", String(200)),
            Column("incoming_webhook_channel_id", String(200)),
            Column("incoming_webhook_configuration_url", Text),
            Column("token_type", String(32)),
        ]
    return columns


slack_installations = Table(
    "slack_installations",
    Base.metadata,
    *_installation_columns(with_user=True),
    Index(
        "ix_slack_installations_lookup",
        "client_id",
        "enterprise_id",
        "team_id",
        "user_id",
        "installed_at",
    ),
)
slack_bots = Table(
    "slack_bots",
    Base.metadata,
    *_installation_columns(with_user=False),
    Index("ix_slack_bots_lookup", "client_id", "enterprise_id", "team_id", "installed_at"),
)
slack_oauth_states = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)


class Member(Base):
    __tablename__ = "members"

    team_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tz: Mapped[str | None] = mapped_column(String(64))
    tz_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dm_channel_id: Mapped[str | None] = mapped_column(String(32))
    home_opened_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # first open: welcome
    focus: Mapped[str | None] = mapped_column(String(100))  # a capability id they chose
    # "Show me my earlier reflections": a nudge may carry one of their own reflections again.
    # On by the database's default only, so rows written as at older revisions leave it out.
    look_back: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # The public-holiday region they chose (e.g. "NZ-CAN"); empty: DEFAULT_HOLIDAY_REGION.
    holiday_region: Mapped[str | None] = mapped_column(String(64))
    # What Slack said at the last read before a nudge (bot.services.calendar): whether their
    # status showed leave and when it clears (None: no expiry), and when Do Not Disturb ends.
    # Never the status text itself.
    status_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # that read
    on_leave: Mapped[bool] = mapped_column(Boolean, server_default=false())
    leave_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dnd_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SeenItem(Base):
    """One item shown to one person, in one pass ("cycle") through the items of its kind.

    The unique key doubles as the index for "what has this person seen of this kind".
    """

    __tablename__ = "seen_items"
    __table_args__ = (
        member_key(),
        UniqueConstraint("team_id", "user_id", "kind", "cycle", "item_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[str] = mapped_column(String(100))
    cycle: Mapped[int] = mapped_column(Integer)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Cohort(Base):
    """A channel whose members practise together: each gets the weekly nudge at the cohort's
    day and time in their own zone. One row per channel; ending it sets `ended_at`, and starting
    it again clears it."""

    __tablename__ = "cohorts"
    __table_args__ = (UniqueConstraint("team_id", "channel_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("workspaces.team_id", ondelete="CASCADE")
    )
    channel_id: Mapped[str] = mapped_column(String(32))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    local_minutes: Mapped[int] = mapped_column(Integer)  # minutes after each member's midnight
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    focus: Mapped[str | None] = mapped_column(String(100))  # a capability id its leads chose
    # The weekly practice post in the channel: on since this instant (NULL: off), at the cohort's
    # day and time in this zone, that of whoever turned it on (a channel has no zone of its own).
    practice_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    practice_tz: Mapped[str | None] = mapped_column(String(64))


class CohortPracticePost(Base):
    """One week's practice post in a cohort's channel. Inserted before posting: the unique
    (cohort, week) key lets one scheduler claim it, however many run."""

    __tablename__ = "cohort_practice_posts"
    __table_args__ = (UniqueConstraint("cohort_id", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    week: Mapped[date] = mapped_column(Date)  # the post's day, in the cohort's practice zone
    item_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # claimed | posted | failed
    message_ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CohortLead(Base):
    """Someone who may change or end a cohort and see its figures: whoever started it, and
    anyone an admin or lead names."""

    __tablename__ = "cohort_leads"
    __table_args__ = (Index(None, "team_id", "user_id"),)

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    named_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Schedule(Base):
    """A person's weekly nudge. `next_due_at` is NULL unless a nudge is coming."""

    __tablename__ = "schedules"
    __table_args__ = (
        member_key(),
        UniqueConstraint("team_id", "user_id"),
        # Finding due work reads only due rows: O(due), not O(subscribers).
        Index(None, "next_due_at"),
        Index(None, "cohort_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    local_minutes: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))  # active | stopped | ended
    ended_reason: Mapped[str | None] = mapped_column(String(64))
    paused_until: Mapped[date | None] = mapped_column(Date)
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    unanswered: Mapped[int] = mapped_column(Integer, default=0)
    backoff_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    last_delivery_id: Mapped[int | None] = mapped_column(Integer)
    # The cohort whose channel this person is in (their figures count there), and whether the
    # cohort set this day and time (True) or the person chose it themselves (False): leaving
    # the channel, or the cohort ending, stops only a nudge the cohort set.
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    from_cohort: Mapped[bool] = mapped_column(Boolean, server_default=false())
    # A nudge that waits (a public holiday, leave, Do Not Disturb): the slot it was due at, why
    # ("holiday:<name>", "leave", "dnd") and where it moved to. Only while next_due_at equals
    # moved_to: anything else that sets next_due_at leaves them stale, and they are ignored.
    moved_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    moved_why: Mapped[str | None] = mapped_column(String(120))
    moved_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    late_from: Mapped[datetime | None] = mapped_column(UtcDateTime())  # the missed rule's start
    welcome_back: Mapped[bool] = mapped_column(Boolean, server_default=false())  # after leave
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    @property
    def held_now(self) -> bool:
        """The dispatcher held this nudge, and nothing has moved it since (moved_* are stale
        once anything else sets next_due_at)."""
        return (
            self.moved_to is not None
            and self.moved_to == self.next_due_at
            and self.moved_from is not None
            and self.moved_why is not None
        )


class Delivery(Base):
    """One nudge for one due instant. The unique key makes a second send impossible to record."""

    __tablename__ = "deliveries"
    __table_args__ = (
        member_key(),
        UniqueConstraint("schedule_id", "due_at"),
        Index(None, "status", "claimed_at"),
        Index(None, "team_id", "channel_id", "message_ts"),
        Index(None, "resurfaced_reflection_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(16))  # nudge | backoff
    status: Mapped[str] = mapped_column(String(16))  # pending | retry | sent | failed | missed
    item_kind: Mapped[str | None] = mapped_column(String(16))
    item_id: Mapped[str | None] = mapped_column(String(100))
    # The item's round in the rotation, chosen at claim; the item counts as seen once Slack
    # accepts the nudge. NULL on nudges claimed before this column, which were counted then.
    item_cycle: Mapped[int | None] = mapped_column(Integer)
    question_id: Mapped[str | None] = mapped_column(String(100))
    follow_up_item_id: Mapped[str | None] = mapped_column(String(100))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reflected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The earlier reflection this nudge shows again (bot.services.dispatch.looking_back): its id
    # only, never its words. No foreign key: a nudge that showed one still counts once it is gone.
    resurfaced_reflection_id: Mapped[int | None] = mapped_column(Integer)
    welcome_back: Mapped[bool] = mapped_column(Boolean, server_default=false())  # after leave


class Reflection(Base):
    """A person's own words. Never logged; only its author ever sees the text."""

    __tablename__ = "reflections"
    __table_args__ = (
        member_key(),
        # One row per Slack message, however often Slack delivers the event.
        UniqueConstraint("team_id", "channel_id", "message_ts"),
        Index(None, "team_id", "user_id", "created_at"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # thread | dm | free | modal
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL")
    )
    item_id: Mapped[str | None] = mapped_column(String(100))
    question_id: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)  # encrypted (bot.crypto), never in clear
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # A reply to a nudge that showed an earlier reflection: that reflection, while it exists.
    looks_back_at: Mapped[int | None] = mapped_column(
        ForeignKey("reflections.id", ondelete="SET NULL")
    )


class SeasonSummary(Base):
    """One person's season summary (12 weeks from their first reflection, in steps). Inserted
    before the DM is sent: the unique (team, user, season) key lets one scheduler claim it.
    Holds no words, only that it was sent: the figures count these rows."""

    __tablename__ = "season_summaries"
    __table_args__ = (member_key(), UniqueConstraint("team_id", "user_id", "season"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    season: Mapped[int] = mapped_column(Integer)  # 0 for the first 12 weeks, then 1, 2, …
    status: Mapped[str] = mapped_column(String(16))  # claimed | sent | failed
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class HandledCommand(Base):
    """A command word typed in a DM, once answered: Slack's retries of it get no second answer.

    Kept for a few days only (longer than Slack ever retries), then purged daily.
    """

    __tablename__ = "handled_commands"
    __table_args__ = (Index(None, "handled_at"),)

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    message_ts: Mapped[str] = mapped_column(String(32), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(UtcDateTime())
