"""Plays the part of Slack's servers towards the app: real, signed HTTP requests
(`SlackDriver`), or envelopes down the app's Socket Mode connection (`SocketModeDriver`).

Each request from a team names its Enterprise Grid org (and an org-wide install) as Slack's
do, from what the simulator knows of that team (`SlackSimulator.grid_of`).

Shared by the tests, the demo and the benchmarks, so all three exercise the same path.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import aiohttp

from devkit.slack_sim import (
    Ack,
    SlackSimulator,
    block_action_body,
    event_body,
    signed_headers,
    slash_command_body,
)


def _slash_body(
    sim: SlackSimulator, text: str, team_id: str, user_id: str, channel_id: str = "C0001"
) -> str:
    enterprise_id, org_wide = sim.grid_of(team_id)
    return slash_command_body(
        text,
        team_id=team_id,
        user_id=user_id,
        channel_id=channel_id,
        response_url=sim.response_url("slash"),
        enterprise_id=enterprise_id,
        org_wide=org_wide,
    )


def _click_body(
    sim: SlackSimulator, action_id: str, value: str, team_id: str, user_id: str, **extra: Any
) -> str:
    enterprise_id, org_wide = sim.grid_of(team_id)
    return block_action_body(
        action_id,
        value,
        team_id=team_id,
        user_id=user_id,
        response_url=sim.response_url("action"),
        enterprise_id=enterprise_id,
        org_wide=org_wide,
        **extra,
    )


def _event_body(sim: SlackSimulator, event: dict[str, Any], team_id: str) -> str:
    enterprise_id, org_wide = sim.grid_of(team_id)
    return event_body(event, team_id=team_id, enterprise_id=enterprise_id, org_wide=org_wide)


@dataclass
class AppReply:
    status: int
    body: str

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}


class SlackDriver:
    def __init__(self, app_url: str, signing_secret: str, sim: SlackSimulator) -> None:
        self.app_url = app_url
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
        self,
        text: str = "",
        *,
        team_id: str = "T0001",
        user_id: str = "U0001",
        channel_id: str = "C0001",
    ) -> AppReply:
        """`/leading-tip <text>` as Slack sends it, typed in `channel_id`; the reply is the ack
        body."""
        return await self.post(_slash_body(self.sim, text, team_id, user_id, channel_id))

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        team_id: str = "T0001",
        user_id: str = "U0001",
    ) -> AppReply:
        """A button press on an ephemeral message; follow-ups go to the recorded response_url."""
        return await self.post(_click_body(self.sim, action_id, value, team_id, user_id))

    async def event(self, event: dict[str, Any], *, team_id: str = "T0001") -> AppReply:
        body = _event_body(self.sim, event, team_id)
        return await self.post(body, content_type="application/json")

    async def join_channel(self, channel: str, user_id: str, *, team_id: str = "T0001") -> AppReply:
        """Someone joins a channel in the simulator, and Slack tells the app."""
        return await self.event(self.sim.join_channel(team_id, channel, user_id), team_id=team_id)

    async def leave_channel(
        self, channel: str, user_id: str, *, team_id: str = "T0001"
    ) -> AppReply:
        """Someone leaves a channel in the simulator, and Slack tells the app."""
        return await self.event(self.sim.leave_channel(team_id, channel, user_id), team_id=team_id)

    async def post_event(
        self,
        event: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        team_id: str | None = None,
    ) -> AppReply:
        """An Events API callback from `team_id`, else the event's `team` (default T0001)."""
        team_id = team_id or str(event.get("team", "T0001"))
        enterprise_id, org_wide = self.sim.grid_of(team_id)
        body = event_body(
            event,
            team_id=team_id,
            event_id="Ev"
            + str(
                abs(hash((team_id, event.get("ts"), event.get("subtype"), event.get("channel"))))
            ),
            enterprise_id=enterprise_id,
            org_wide=org_wide,
        )
        return await self.post(body, content_type="application/json", headers=headers)

    # --- installing, as a person's browser and Slack's OAuth pages would --------------------

    async def open_page(self, path: str, *, cookie: str | None = None) -> PageReply:
        """GET one of the app's pages, with the browser's cookie if given; no redirects."""
        assert self._http is not None, "use `async with SlackDriver(...)`"
        headers = {"Cookie": cookie} if cookie else {}
        async with self._http.get(
            f"{self.app_url}{path}", headers=headers, allow_redirects=False
        ) as response:
            set_cookie = response.headers.get("Set-Cookie", "")
            return PageReply(
                status=response.status,
                body=await response.text(),
                content_type=response.headers.get("Content-Type", ""),
                cookie=set_cookie.split(";", 1)[0] or None,
            )

    async def start_install(self) -> InstallStart:
        """Open /slack/install: the page, its "Add to Slack" link's state, and the cookie."""
        page = await self.open_page("/slack/install")
        found = re.search(r'href="([^"]*oauth/v2/authorize[^"]*)"', page.body)
        assert page.status == 200 and found, f"no Add to Slack link ({page.status})"
        link = html.unescape(found[1])
        state = parse_qs(urlsplit(link).query).get("state", [""])[0]
        return InstallStart(page=page, authorize_url=link, state=state, cookie=page.cookie)

    async def finish_install(self, start: InstallStart, code: str) -> PageReply:
        """Slack's redirect back to the app after "Allow", in the same browser."""
        query = urlencode({"code": code, "state": start.state})
        return await self.open_page(f"/slack/oauth_redirect?{query}", cookie=start.cookie)

    async def install(self, team_id: str, **grant: Any) -> PageReply:
        """The whole round trip: install page, "Allow" in `team_id` (see
        `SlackSimulator.authorize_install` for `grant`), redirect back; the last page."""
        start = await self.start_install()
        return await self.finish_install(start, self.sim.authorize_install(team_id, **grant))


@dataclass
class PageReply:
    status: int
    body: str
    content_type: str
    cookie: str | None  # "name=value" the page set, if any


@dataclass
class InstallStart:
    page: PageReply
    authorize_url: str
    state: str
    cookie: str | None


class SocketModeDriver:
    """Slack's side of Socket Mode: each request goes down the app's WebSocket as an envelope,
    carrying the same payload Slack would POST over HTTP, and the answer is the app's ack."""

    def __init__(self, sim: SlackSimulator) -> None:
        self.sim = sim

    async def slash(self, text: str = "", *, team_id: str = "T0001", user_id: str = "U0001") -> Ack:
        """`/leading-tip <text>`; the answer, if given in the ack, is its payload."""
        fields = dict(
            parse_qsl(_slash_body(self.sim, text, team_id, user_id), keep_blank_values=True)
        )
        return await self.send("slash_commands", fields, accepts_response_payload=True)

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        team_id: str = "T0001",
        user_id: str = "U0001",
        **extra: Any,
    ) -> Ack:
        """A button press (on an ephemeral message unless `extra` says where); follow-ups go to
        the recorded response_url."""
        form = dict(parse_qsl(_click_body(self.sim, action_id, value, team_id, user_id, **extra)))
        return await self.send("interactive", json.loads(form["payload"]))

    async def event(self, event: dict[str, Any], *, team_id: str = "T0001") -> Ack:
        return await self.send("events_api", json.loads(_event_body(self.sim, event, team_id)))

    async def send(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False
    ) -> Ack:
        """Any envelope (`slash_commands`, `interactive` or `events_api`); the app's ack."""
        envelope_id = await self.sim.deliver(
            kind, payload, accepts_response_payload=accepts_response_payload
        )
        return await self.sim.wait_for_ack(envelope_id)
