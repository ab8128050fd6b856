"""Start-up settings: a wrong or missing one stops with one line naming the variable."""

from __future__ import annotations

import os

import pytest

from bot.config import ConfigError, load_settings
from bot.crypto import new_key
from tests.helpers import run_cli

VALID_KEY = new_key()


def settings_error(**env: str) -> str:
    with pytest.raises(ConfigError) as error:
        load_settings(**{key.lower(): value for key, value in env.items()})
    return str(error.value)


def test_defaults_match_the_contract() -> None:
    settings = load_settings()
    assert settings.port == 3000 or os.environ.get("PORT")
    assert settings.default_tz == "Pacific/Auckland" or os.environ.get("DEFAULT_TZ")
    assert settings.slack_api_url.endswith("/api/") or os.environ.get("SLACK_API_URL")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DEFAULT_TZ": "Mars/Olympus"}, "DEFAULT_TZ"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"REFLECTION_RETENTION_DAYS": "-5"}, "REFLECTION_RETENTION_DAYS"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "SLACK_APP_TOKEN"),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CLIENT_ID": "1", "SLACK_CLIENT_SECRET": "2"},
            "SLACK_CLIENT_ID",
        ),
        ({"SLACK_CLIENT_ID": "1"}, "SLACK_CLIENT_SECRET"),
        ({"ENCRYPTION_KEYS": "not-a-key"}, "ENCRYPTION_KEYS"),
        ({"ENCRYPTION_KEYS": f"{VALID_KEY},{VALID_KEY[:-2]}"}, "ENCRYPTION_KEYS"),
        ({"ENCRYPTION_KEYS": " , "}, "ENCRYPTION_KEYS"),
    ],
)
def test_wrong_setting_names_the_variable_in_one_line(env: dict[str, str], names: str) -> None:
    message = settings_error(**env)
    assert names in message
    assert "\n" not in message


def test_admin_user_ids_are_read_from_a_comma_separated_list() -> None:
    assert load_settings(admin_user_ids=" U1, U2 ,,").admin_ids == {"U1", "U2"}


@pytest.mark.parametrize(
    ("given", "kept"),
    [("nz-CAN", "NZ-CAN"), (" NZ ", "NZ"), ("None", "none"), ("", "NZ"), ("au-NSW", "AU-NSW")],
)
def test_default_holiday_region_is_kept_as_home_offers_it(given: str, kept: str) -> None:
    assert load_settings(default_holiday_region=given).default_holiday_region == kept


def test_serve_without_credentials_says_what_to_set_and_points_to_the_demo() -> None:
    result = run_cli("serve")
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in result.stderr
    assert "make demo" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_setting_stops_start_up_without_a_traceback() -> None:
    result = run_cli("serve", DEFAULT_TZ="Nowhere/Special")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: DEFAULT_TZ: 'Nowhere/Special' is not an IANA time zone, "
        "e.g. Pacific/Auckland"
    ]


def test_multi_workspace_mode_needs_only_the_signing_secret_besides_the_client_pair() -> None:
    result = run_cli("serve", SLACK_CLIENT_ID="123.456", SLACK_CLIENT_SECRET="s3cret")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: SLACK_SIGNING_SECRET not set. Set it from your Slack app's "
        "settings (see README, 'Create the Slack app'), or run `make demo` to try the app "
        "without Slack."
    ]


def test_both_workspace_modes_at_once_stop_start_up_in_one_line() -> None:
    result = run_cli(
        "serve",
        SLACK_BOT_TOKEN="xoxb-one-workspace",
        SLACK_CLIENT_ID="123.456",
        SLACK_CLIENT_SECRET="s3cret-client",
        SLACK_SIGNING_SECRET="signing",
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "Configuration error: SLACK_BOT_TOKEN and SLACK_CLIENT_ID are both set: choose "
        "single-workspace (SLACK_BOT_TOKEN) or multi-workspace (SLACK_CLIENT_ID + "
        "SLACK_CLIENT_SECRET)"
    ]
    assert "s3cret-client" not in result.stderr and "xoxb-one" not in result.stderr


def test_a_bad_encryption_key_stops_start_up_in_one_line_without_showing_it() -> None:
    result = run_cli("db", "upgrade", ENCRYPTION_KEYS=f"{VALID_KEY},secret-but-wrong")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Configuration error: ENCRYPTION_KEYS: key 2 of 2 is not a Fernet key (32 url-safe "
        "base64 bytes); make one with `leading-bot keys new`"
    ]
    assert "secret-but-wrong" not in result.stderr
