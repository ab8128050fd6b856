"""The parsed form of a `/leading-tip` request, shared by the word modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.commands import ParsedCommand, parse

if TYPE_CHECKING:
    from bot import blocks
    from bot.app_context import AppContext


@dataclass(frozen=True)
class SlashRequest:
    team_id: str
    user_id: str
    channel_id: str
    parsed: ParsedCommand


Route = Callable[["AppContext", SlashRequest], Awaitable["blocks.Message"]]


def slash_request(command: dict[str, Any]) -> SlashRequest:
    return SlashRequest(
        team_id=command.get("team_id", ""),
        user_id=command.get("user_id", ""),
        channel_id=command.get("channel_id", ""),
        parsed=parse(command.get("text")),
    )
