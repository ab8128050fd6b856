"""The Slack app manifest, to paste into api.slack.com/apps → Create New App → From a manifest."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.config import ConfigError
from bot.content import Library

APP_NAME = "Leading Health nudges"
COMMAND = "/leading-tip"
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:history",
    "im:write",
    "users:read",
    "reactions:write",
    "files:write",
    "channels:read",  # a cohort's members (conversations.members) and who joins or leaves
    "groups:read",  # the same in a private channel
    "dnd:read",  # Do Not Disturb: a nudge waits until it ends (dnd.teamInfo)
)
BOT_EVENTS = (
    "message.im",
    "app_home_opened",
    "app_uninstalled",
    "tokens_revoked",
    "member_joined_channel",
    "member_left_channel",
)
EVENTS_PATH = "/slack/events"
REDIRECT_PATH = "/slack/oauth_redirect"  # where Slack sends the browser back after "Allow"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def public_base_url(text: str) -> str:
    """The app's public base URL from what someone typed or pasted, or one line saying why not.

    Slack only calls https:// addresses (http:// is allowed for localhost, for trying things
    out). A pasted events URL or a trailing slash is trimmed so the path is not doubled.
    """
    problem = ConfigError(
        f"--url: “{text[:60]}” is not an https:// address with a host name, "
        "e.g. https://nudges.example.org (http:// is for localhost only)"
    )
    try:
        parts = urlsplit(text.strip())
        host, _port = parts.hostname, parts.port  # .port raises on a port that is not a number
    except ValueError:
        raise problem from None
    if not host or parts.query or parts.fragment:
        raise problem
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOCAL_HOSTS):
        raise problem
    path = parts.path.rstrip("/").removesuffix(EVENTS_PATH).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


def build_manifest(
    library: Library, url: str | None = None, *, distributed: bool = False
) -> dict[str, Any]:
    """With a public URL the app uses HTTP; without one, Socket Mode (needs SLACK_APP_TOKEN).

    `distributed` (SLACK_CLIENT_ID is set: installs with "Add to Slack"): Slack must know the
    OAuth redirect URL, so a public URL is needed; org-wide installs on Enterprise Grid are
    allowed. Token rotation stays off: once turned on for an app it can't be turned off, and
    the app refreshes rotating tokens anyway if someone turns it on."""
    if distributed and not url:
        raise ConfigError(
            "--url is needed when SLACK_CLIENT_ID is set: Slack sends people back to "
            f"URL{REDIRECT_PATH} after they add the app"
        )
    capability = library.capabilities[0]
    attribution = library.attribution
    base = url.rstrip("/") if url else None
    events_url = f"{base}{EVENTS_PATH}" if base else None
    slash: dict[str, Any] = {
        "command": COMMAND,
        "description": "A tip, practice idea or reflection for leading health",
        "usage_hint": "[tip | practice | blocker | reflect | weekly | cohort | help]",
        # Slack sends "@someone" as <@U…|name> (`cohort lead @someone`), and &, < and > escaped.
        "should_escape": True,
    }
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": list(BOT_EVENTS)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": distributed,
        "socket_mode_enabled": events_url is None,
        "token_rotation_enabled": False,
    }
    oauth: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if distributed:
        oauth["redirect_urls"] = [f"{base}{REDIRECT_PATH}"]
    if events_url:
        slash["url"] = events_url
        settings["event_subscriptions"]["request_url"] = events_url
        settings["interactivity"]["request_url"] = events_url
    count = len(library.capabilities)
    turns = (
        f"{count} leadership capabilities, each person choosing one to focus on,"
        if count > 1
        else f"one leadership capability, “{capability.title}”,"
    )
    long_description = (
        f"Leading Health nudges turns {turns} into weekly practice. Ask /leading-tip for a "
        "quick tip, a way to practise, or something that can hold you back; subscribe to a "
        "weekly nudge in your DMs at a day and time you choose; and reply to keep private "
        "reflections only you can see.\n\n"
        f"The content is quoted from {attribution.framework}, the leadership framework of "
        f"{attribution.owner}, published by {attribution.publisher} ({attribution.publisher_url})."
    )
    return {
        "display_information": {
            "name": APP_NAME,
            "description": "Weekly practice for leading health, with private reflections",
            "long_description": long_description,
            "background_color": "#4a2a6b",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Leading Health", "always_online": True},
            "slash_commands": [slash],
        },
        "oauth_config": oauth,
        "settings": settings,
    }
