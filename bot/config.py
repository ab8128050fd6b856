"""Settings from the environment (see README.md, "Configuration").

Errors name the variable in one line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bot.calendar import (
    LEAVE_EMOJI,
    LEAVE_WORDS,
    NO_HOLIDAYS,
    names,
    region_problem,
    split_region,
)

DEFAULT_DATABASE_URL = "sqlite:///leading-bot.db"


class ConfigError(Exception):
    """A setting is missing or wrong; str(error) is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = DEFAULT_DATABASE_URL
    slack_signing_secret: str | None = None
    slack_bot_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: str = "text"
    default_tz: str = "Pacific/Auckland"
    admin_user_ids: str = ""
    reflection_retention_days: int | None = Field(default=None, ge=1)
    uninstall_purge_days: int = Field(default=30, ge=1)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # Comma-separated Fernet keys: the first encrypts, all decrypt. Kept out of repr().
    encryption_keys: str | None = Field(default=None, repr=False)
    # An organisation's own content folder (the layout of bot/content/); unset: the shipped pack.
    content_dir: Path | None = None
    # Public holidays for members who chose no region (bot.calendar), e.g. NZ-CAN.
    default_holiday_region: str = "NZ"
    # A Slack status that means leave: comma-separated emoji codes and words; unset: our lists.
    leave_status_emoji: str | None = None
    leave_status_words: str | None = None

    @field_validator(
        "slack_signing_secret",
        "slack_bot_token",
        "slack_client_id",
        "slack_client_secret",
        "slack_app_token",
        "reflection_retention_days",
        "encryption_keys",
        "metrics_port",
        "content_dir",
        "leave_status_emoji",
        "leave_status_words",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("content_dir")
    @classmethod
    def _content_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(
                f"{str(value)[:200]!r} is not a folder; point it at a folder holding "
                "framework.yaml and packs/ (see README, 'Write your own pack')"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        chosen = value.strip().lower()
        if chosen not in ("text", "json"):
            raise ValueError("must be text or json")
        return chosen

    @field_validator("default_tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. Pacific/Auckland") from None
        return value

    @field_validator("default_holiday_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        value = value.strip() or "NZ"
        problem = region_problem(value)
        if problem is not None:
            raise ValueError(problem)
        if value.lower() == NO_HOLIDAYS:
            return NO_HOLIDAYS
        country, subdivision = split_region(value)  # "nz-CAN" is NZ-CAN, as Home offers it
        return f"{country}-{subdivision}" if subdivision else country

    @property
    def leave_emoji(self) -> tuple[str, ...]:
        return names(self.leave_status_emoji, LEAVE_EMOJI)

    @property
    def leave_words(self) -> tuple[str, ...]:
        return names(self.leave_status_words, LEAVE_WORDS)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres://")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("encryption_keys")
    @classmethod
    def _fernet_keys(cls, value: str | None) -> str | None:
        if value is None:
            return None
        keys = [part.strip() for part in value.split(",") if part.strip()]
        if not keys:
            raise ValueError("holds no key; make one with `leading-bot keys new`")
        for number, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except ValueError:
                raise ValueError(
                    f"key {number} of {len(keys)} is not a Fernet key (32 url-safe base64 bytes); "
                    "make one with `leading-bot keys new`"
                ) from None
        return ",".join(keys)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.slack_bot_token and self.slack_client_id:
            raise ValueError(
                "SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: choose single-workspace "
                "(SLACK_BOT_TOKEN) or multi-workspace (SLACK_CLIENT_ID + SLACK_CLIENT_SECRET)"
            )
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
            raise ValueError(f"{missing} is not set: multi-workspace mode needs both")
        return self

    @property
    def admin_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.admin_user_ids.split(",") if part.strip())

    @property
    def encryption_key_list(self) -> list[str]:
        return self.encryption_keys.split(",") if self.encryption_keys else []

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


class _GivenSettings(Settings):
    """Only the values given and the defaults: the environment is not read."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def given_settings(**values: object) -> Settings:
    """Settings for something self-contained, like the demo: a stray LOG_LEVEL, PORT or
    DEFAULT_TZ in the shell has no say in it."""
    return _GivenSettings(**values)  # type: ignore[arg-type]


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise ConfigError with a one-line message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        loc = [str(part) for part in first["loc"]]
        message = str(first["msg"]).removeprefix("Value error, ")
        if loc:
            return _raise(f"{loc[0].upper()}: {message}")
        return _raise(message)


def _raise(message: str) -> Settings:
    raise ConfigError(f"Configuration error: {message}")


def require_slack_credentials(settings: Settings) -> None:
    """`serve` needs a way to talk to Slack: say exactly what to set."""
    # Multi-workspace mode (SLACK_CLIENT_ID + SLACK_CLIENT_SECRET, both checked by Settings)
    # needs no bot token: each install brings its own.
    token = ("SLACK_BOT_TOKEN", settings.slack_client_id or settings.slack_bot_token)
    missing = [
        name
        for name, value in (token, ("SLACK_SIGNING_SECRET", settings.slack_signing_secret))
        if not value
    ]
    if settings.slack_app_token and "SLACK_SIGNING_SECRET" in missing:
        missing.remove("SLACK_SIGNING_SECRET")  # Socket Mode does not sign requests
    if missing:
        raise ConfigError(
            f"Configuration error: {' and '.join(missing)} not set. Set "
            f"{'them' if len(missing) > 1 else 'it'} from your Slack app's settings (see README, "
            "'Create the Slack app'), or run `make demo` to try the app without Slack."
        )
