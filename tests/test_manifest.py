"""`leading-bot manifest` prints what Slack needs to create the app."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli


def manifest(*args: str) -> dict:
    result = run_cli("manifest", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_manifest_with_url_points_everything_at_slack_events() -> None:
    data = manifest("--url", "https://nudges.example.org/")
    url = "https://nudges.example.org/slack/events"
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/leading-tip" and command["url"] == url
    assert data["settings"]["interactivity"] == {"is_enabled": True, "request_url": url}
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["socket_mode_enabled"] is False


def test_manifest_asks_for_exactly_the_scopes_and_events_the_app_uses() -> None:
    data = manifest("--url", "https://x.example")
    assert sorted(data["oauth_config"]["scopes"]["bot"]) == sorted(
        [
            "commands",
            "chat:write",
            "im:history",
            "im:write",
            "users:read",
            "reactions:write",
            "files:write",
            "channels:read",
            "groups:read",
            "dnd:read",
        ]
    )
    assert sorted(data["settings"]["event_subscriptions"]["bot_events"]) == sorted(
        [
            "message.im",
            "app_home_opened",
            "app_uninstalled",
            "tokens_revoked",
            "member_joined_channel",
            "member_left_channel",
        ]
    )


def test_manifest_enables_home_and_a_writable_messages_tab() -> None:
    home = manifest()["features"]["app_home"]
    assert home == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }


def test_manifest_without_url_uses_socket_mode_and_credits_the_source() -> None:
    data = manifest()
    assert data["settings"]["socket_mode_enabled"] is True
    assert "url" not in data["features"]["slash_commands"][0]
    description = data["display_information"]["long_description"]
    assert "Koru Ārahi | Leadership Koru" in description and "HELM" in description
    assert 175 <= len(description) <= 4000


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("https://nudges.example.org/slack/events", "https://nudges.example.org"),
        ("https://nudges.example.org/slack/events/", "https://nudges.example.org"),
        ("https://example.org/nudges//", "https://example.org/nudges"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:3000/slack/events", "http://127.0.0.1:3000"),
    ],
)
def test_manifest_url_takes_a_pasted_events_url_without_doubling_it(given: str, base: str) -> None:
    data = manifest("--url", given)
    assert data["settings"]["event_subscriptions"]["request_url"] == f"{base}/slack/events"
    assert data["features"]["slash_commands"][0]["url"] == f"{base}/slack/events"


@pytest.mark.parametrize(
    "given",
    [
        "notaurl",
        "http://",
        "https://",
        "http://nudges.example.org",
        "ftp://nudges.example.org",
        "https://nudges.example.org:port",
        "https://nudges.example.org/?team=T1",
        "",
    ],
)
def test_manifest_refuses_a_url_slack_cannot_call_in_one_line(given: str) -> None:
    result = run_cli("manifest", "--url", given)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"--url: “{given}” is not an https:// address with a host name, "
        "e.g. https://nudges.example.org (http:// is for localhost only)"
    ]


# --- distributed installs ("Add to Slack", SLACK_CLIENT_ID set) ------------------------------


def test_client_mode_adds_the_redirect_url_and_org_wide_installs_and_nothing_else() -> None:
    single = manifest("--url", "https://nudges.example.org/slack/events")
    result = run_cli(
        "manifest", "--url", "https://nudges.example.org/slack/events", SLACK_CLIENT_ID="1.2"
    )
    assert result.returncode == 0, result.stderr
    distributed = json.loads(result.stdout)
    assert distributed["oauth_config"]["redirect_urls"] == [
        "https://nudges.example.org/slack/oauth_redirect"
    ]
    assert distributed["settings"]["org_deploy_enabled"] is True
    assert distributed["settings"]["token_rotation_enabled"] is False
    # Everything else is the same as for one workspace, whose output does not change.
    del distributed["oauth_config"]["redirect_urls"]
    distributed["settings"]["org_deploy_enabled"] = False
    assert distributed == single
    assert "redirect_urls" not in single["oauth_config"]
    assert single["settings"]["org_deploy_enabled"] is False


def test_client_mode_without_a_url_says_in_one_line_that_slack_needs_one() -> None:
    result = run_cli("manifest", SLACK_CLIENT_ID="1.2")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "--url is needed when SLACK_CLIENT_ID is set: Slack sends people back to "
        "URL/slack/oauth_redirect after they add the app"
    ]
