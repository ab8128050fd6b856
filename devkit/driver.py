"""Plays the part of Slack's servers towards the app: real, signed HTTP requests.

Shared by the tests, the demo and the benchmarks, so all three exercise the same path.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from devkit.slack_sim import (
    SlackSimulator,
    block_action_body,
    event_body,
    signed_headers,
    slash_command_body,
)


@dataclass
class AppReply:
    status: int
    body: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}


class SlackDriver:
    def __init__(self, app_url: str, signing_secret: str, sim: SlackSimulator) -> None:
        self.events_url = f"{app_url}/slack/events"
        self.signing_secret = signing_secret
        self.sim = sim
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackDriver:
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._http is not None:
            await self._http.close()

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
        sign: bool = True,
    ) -> AppReply:
        """Send a body to POST /slack/events, signed unless told otherwise."""
        assert self._http is not None, "use `async with SlackDriver(...)`"
        if sign:
            sent = signed_headers(
                self.signing_secret, body, timestamp=timestamp, content_type=content_type
            )
        else:
            sent = {
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(int(time.time())),
            }
        sent.update(headers or {})
        async with self._http.post(self.events_url, data=body.encode(), headers=sent) as response:
            return AppReply(status=response.status, body=await response.text())

    async def slash(
        self, text: str = "", *, team_id: str = "T0001", user_id: str = "U0001"
    ) -> AppReply:
        """`/leading-tip <text>` as Slack sends it; the reply is the ack body."""
        body = slash_command_body(
            text,
            team_id=team_id,
            user_id=user_id,
            response_url=self.sim.response_url("slash"),
        )
        return await self.post(body)

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        team_id: str = "T0001",
        user_id: str = "U0001",
    ) -> AppReply:
        """A button press on an ephemeral message; follow-ups go to the recorded response_url."""
        body = block_action_body(
            action_id,
            value,
            team_id=team_id,
            user_id=user_id,
            response_url=self.sim.response_url("action"),
        )
        return await self.post(body)

    async def event(self, event: dict[str, Any], *, team_id: str = "T0001") -> AppReply:
        return await self.post(event_body(event, team_id=team_id), content_type="application/json")

    async def post_event(
        self, event: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> AppReply:
        """An Events API callback; the team comes from the event's `team` (default T0001)."""
        body = event_body(
            event,
            team_id=str(event.get("team", "T0001")),
            event_id="Ev"
            + str(abs(hash((event.get("ts"), event.get("subtype"), event.get("channel"))))),
        )
        return await self.post(body, content_type="application/json", headers=headers)
