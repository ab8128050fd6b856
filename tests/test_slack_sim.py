"""The Slack simulator answers a real AsyncWebClient the way the Web API does."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import aiohttp
import pytest
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from devkit.slack_sim import (
    DEFAULT_APP_TOKEN,
    DEFAULT_TOKEN,
    SlackSimulator,
    block_action_body,
    event_body,
    sign,
    signed_headers,
    slash_command_body,
    view_submission_body,
)
from devkit.transcript import blocks_to_text, view_to_text

NUDGE_METADATA = {"event_type": "nudge_sent", "event_payload": {"nudge_id": "n-1"}}


@pytest.fixture
async def sim() -> AsyncIterator[SlackSimulator]:
    async with SlackSimulator() as simulator:
        yield simulator


def client_for(sim: SlackSimulator, token: str = DEFAULT_TOKEN, **kwargs: object) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=sim.base_url, **kwargs)  # type: ignore[arg-type]


async def test_listens_on_a_random_loopback_port() -> None:
    async with SlackSimulator() as first, SlackSimulator() as second:
        assert first.base_url.startswith("http://127.0.0.1:")
        assert first.base_url.endswith("/api/")
        assert first.url != second.url


async def test_posted_message_is_in_history_with_metadata_only_when_asked(
    sim: SlackSimulator,
) -> None:
    client = client_for(sim)
    first = await client.chat_postMessage(channel="C1", text="one", metadata=NUDGE_METADATA)
    second = await client.chat_postMessage(
        channel="C1",
        text="two",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "two"}}],
    )

    assert first["message"]["metadata"] == NUDGE_METADATA
    assert float(second["ts"]) > float(first["ts"])
    plain = await client.conversations_history(channel="C1")
    assert [m["text"] for m in plain["messages"]] == ["two", "one"]
    assert all("metadata" not in m for m in plain["messages"])
    with_metadata = await client.conversations_history(
        channel="C1", include_all_metadata=True, limit=1, oldest="0"
    )
    assert with_metadata["has_more"] is True
    older = await client.conversations_history(
        channel="C1", include_all_metadata=True, latest=second["ts"]
    )
    assert older["messages"][0]["metadata"] == NUDGE_METADATA
    recorded = sim.calls_to("chat.postMessage")[1]
    assert recorded.body["blocks"][0]["type"] == "section"
    assert recorded.team_id == "T0001"


async def test_form_encoded_json_fields_are_decoded_in_recorded_calls(sim: SlackSimulator) -> None:
    client = client_for(sim)
    blocks = [{"type": "divider"}]
    await client.api_call(
        "chat.postMessage", data={"channel": "C1", "text": "x", "blocks": json.dumps(blocks)}
    )
    assert sim.calls_to("chat.postMessage")[0].body["blocks"] == blocks


async def test_thread_replies_stay_out_of_history_and_count_on_their_parent(
    sim: SlackSimulator,
) -> None:
    client = client_for(sim)
    parent = await client.chat_postMessage(channel="D1", text="nudge")
    reply = sim.add_message("D1", user="U0001", text="my reflection", thread_ts=parent["ts"])

    history = await client.conversations_history(channel="D1")

    assert [m["text"] for m in sim.messages("D1")] == ["nudge", "my reflection"]
    assert [m["ts"] for m in history["messages"]] == [parent["ts"]]
    assert history["messages"][0]["reply_count"] == 1
    assert history["messages"][0]["latest_reply"] == reply["ts"]


async def test_methods_the_app_never_calls_answer_unknown_method(sim: SlackSimulator) -> None:
    client = client_for(sim)
    posted = await client.chat_postMessage(channel="C1", text="before")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C1", ts=posted["ts"], text="after")
    assert raised.value.response["error"] == "unknown_method"
    assert sim.messages("C1")[0]["text"] == "before"


async def test_conversations_open_gives_a_stable_dm_id_per_user(sim: SlackSimulator) -> None:
    sim.add_user("T0001", "U0002")
    client = client_for(sim)
    first = await client.conversations_open(users="U0002")
    again = await client.conversations_open(users="U0002")
    other = await client.conversations_open(users="U0001")

    assert first["channel"]["id"] == again["channel"]["id"] == "DU0002"
    assert again["already_open"] is True
    assert other["channel"]["id"] != first["channel"]["id"]
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_open(users="UBOT0001")
    assert raised.value.response["error"] == "cannot_dm_bot"


async def test_users_info_reports_time_zone_and_roles(sim: SlackSimulator) -> None:
    sim.add_user("T0001", "U0009", tz="Europe/London", is_admin=True, real_name="Ana")
    client = client_for(sim)
    user = (await client.users_info(user="U0009"))["user"]

    assert user["tz"] == "Europe/London"
    assert user["tz_offset"] in (0, 3600)
    assert (user["is_admin"], user["is_owner"], user["deleted"]) == (True, False, False)
    assert user["real_name"] == "Ana"
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="UNOBODY")
    assert raised.value.response["error"] == "user_not_found"


async def test_each_token_identifies_its_own_workspace(sim: SlackSimulator) -> None:
    sim.add_workspace("T0002", "xoxb-test-T0002", "UBOT0002", name="Second")
    second = await client_for(sim, "xoxb-test-T0002").auth_test()
    assert (second["team_id"], second["user_id"]) == ("T0002", "UBOT0002")

    with pytest.raises(SlackApiError) as unknown:
        await client_for(sim, "xoxb-nope").auth_test()
    assert unknown.value.response["error"] == "invalid_auth"
    sim.revoke("xoxb-test-T0002")
    with pytest.raises(SlackApiError) as revoked:
        await client_for(sim, "xoxb-test-T0002").auth_test()
    assert revoked.value.response["error"] == "token_revoked"


async def test_unknown_method_answers_unknown_method(sim: SlackSimulator) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client_for(sim).api_call("chat.frobnicate")
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "unknown_method"


async def test_rate_limited_call_is_retried_once_by_the_retry_handler(sim: SlackSimulator) -> None:
    sim.fail("chat.postMessage", status=429, retry_after=0)
    client = client_for(sim, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])

    response = await client.chat_postMessage(channel="C1", text="hello")

    assert response["ok"] is True
    calls = sim.calls_to("chat.postMessage")
    assert len(calls) == 2
    assert calls[0].failed is not None and "429" in calls[0].failed
    assert calls[1].failed is None


async def test_rate_limit_without_retry_handler_raises_with_header(
    sim: SlackSimulator,
) -> None:
    sim.fail("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client_for(sim).chat_postMessage(channel="C1", text="hello")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    "error", ["account_inactive", "user_not_found", "cannot_dm_bot", "token_revoked"]
)
async def test_scripted_error_bodies_raise_slack_api_error(sim: SlackSimulator, error: str) -> None:
    sim.fail("chat.postMessage", error=error, channel="D1")
    client = client_for(sim)
    await client.chat_postMessage(channel="C1", text="other channel is unaffected")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="D1", text="hello")
    assert raised.value.response["error"] == error
    assert (await client.chat_postMessage(channel="D1", text="next one works"))["ok"]


async def test_scripted_server_error_uses_that_status(sim: SlackSimulator) -> None:
    sim.fail("users.info", status=503)
    with pytest.raises(SlackApiError) as raised:
        await client_for(sim).users_info(user="U0001")
    assert raised.value.response.status_code == 503


async def test_dropped_connection_raises_a_client_error(sim: SlackSimulator) -> None:
    sim.fail("chat.postMessage", drop=True)
    with pytest.raises(aiohttp.ClientError):
        await client_for(sim, retry_handlers=[]).chat_postMessage(channel="C1", text="hello")
    assert [c.failed for c in sim.calls_to("chat.postMessage")] == ["drop"]


async def test_chat_post_limits_answer_429_from_a_token_bucket(sim: SlackSimulator) -> None:
    sim.limit_chat_post(per_channel_per_second=1, burst=1)
    client = client_for(sim)
    await client.chat_postMessage(channel="C1", text="first")
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="too soon")
    await client.chat_postMessage(channel="C2", text="other channel")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"
    assert (sim.stats["chat_post_allowed"], sim.stats["chat_post_limited"]) == (2, 1)


async def test_a_held_method_is_done_but_answered_only_when_released(sim: SlackSimulator) -> None:
    client = client_for(sim)
    released = sim.hold("chat.postMessage")
    posting = asyncio.create_task(client.chat_postMessage(channel="C1", text="on its way"))
    await sim.wait_for("chat.postMessage")
    await asyncio.sleep(0.05)
    assert not posting.done()
    assert [m["text"] for m in sim.messages("C1")] == ["on its way"]  # Slack has it already
    released.set()
    assert (await posting)["ok"] is True


async def test_a_hold_for_one_workspace_leaves_the_others_answered(sim: SlackSimulator) -> None:
    sim.add_workspace("T0002", "xoxb-test-T0002", "UBOT0002", name="Second")
    released = sim.hold("chat.postMessage", team_id="T0001")
    held = asyncio.create_task(client_for(sim).chat_postMessage(channel="C1", text="slow"))
    await sim.wait_for("chat.postMessage")
    other = await client_for(sim, "xoxb-test-T0002").chat_postMessage(channel="C1", text="quick")
    assert other["ok"] is True and not held.done()
    released.set()
    assert (await held)["ok"] is True


async def test_latency_delays_every_answer_and_calls_overlap() -> None:
    async with SlackSimulator(latency=0.2) as sim:
        client = client_for(sim)
        started = time.monotonic()
        answers = await asyncio.gather(*(client.auth_test() for _ in range(5)))
        took = time.monotonic() - started
    assert all(answer["ok"] for answer in answers)
    assert 0.2 <= took < 5 * 0.2  # each waited, together: the server sleeps, not blocks


async def test_files_upload_v2_round_trip_stores_content(sim: SlackSimulator) -> None:
    client = client_for(sim)
    response = await client.files_upload_v2(
        channel="D1", filename="export.csv", content="a,b\n1,2\n", title="Export"
    )

    file_id = response["file"]["id"]
    assert sim.uploaded_files[file_id] == b"a,b\n1,2\n"
    assert response["file"]["title"] == "Export"
    assert [c.method for c in sim.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    assert sim.messages("D1")[0]["files"][0]["id"] == file_id


async def test_views_publish_keeps_one_home_view_per_user(sim: SlackSimulator) -> None:
    client = client_for(sim)
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = await client.views_publish(user_id="U0001", view=home)
    second = await client.views_publish(user_id="U0001", view=home)
    opened = await client.views_open(trigger_id="t", view={"type": "modal", "blocks": []})

    assert first["view"]["id"] == second["view"]["id"]
    assert sim.home_view("U0001") == second["view"]
    assert opened["view"]["id"] != first["view"]["id"]


async def test_response_url_posts_are_recorded(sim: SlackSimulator) -> None:
    url = sim.response_url("tip")
    response = await AsyncWebhookClient(url).send(text="Here is a tip", replace_original=True)

    assert response.status_code == 200
    assert json.loads(response.body) == {"ok": True}
    [call] = sim.calls_to("response_url")
    assert call.body == {"text": "Here is a tip", "replace_original": True}
    assert call.url == url


async def test_response_url_stops_after_five_uses(sim: SlackSimulator) -> None:
    webhook = AsyncWebhookClient(sim.response_url())
    statuses = [(await webhook.send(text=str(i))).status_code for i in range(6)]
    assert statuses == [200] * 5 + [404]


def test_signature_helper_matches_slack_sdk_verifier() -> None:
    body = slash_command_body("help", response_url="https://example.test/r")
    headers = signed_headers("s3cret", body, timestamp=1_700_000_000)
    verifier = SignatureVerifier("s3cret", clock=FixedClock(1_700_000_010))

    assert verifier.is_valid_request(body, headers)
    assert headers["X-Slack-Signature"] == sign("s3cret", body, 1_700_000_000)
    assert not verifier.is_valid_request(body + "x", headers)


class FixedClock:
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_incoming_bodies_look_like_slacks() -> None:
    command = parse_qs(slash_command_body("goal set", response_url="https://r.test/1"))
    assert command["command"] == ["/leading-tip"]
    assert command["text"] == ["goal set"]
    assert command["team_id"] == ["T0001"]

    action = json.loads(
        parse_qs(block_action_body("nudge_done", "n-1", response_url="https://r.test/2"))[
            "payload"
        ][0]
    )
    assert action["type"] == "block_actions"
    assert action["actions"][0] == action["actions"][0] | {
        "action_id": "nudge_done",
        "value": "n-1",
    }
    assert action["response_url"] == "https://r.test/2"

    values = {"goal": {"goal_text": {"type": "plain_text_input", "value": "Listen more"}}}
    submission = json.loads(
        parse_qs(view_submission_body("goal_modal", values, private_metadata="m"))["payload"][0]
    )
    assert submission["view"]["state"]["values"] == values
    assert submission["view"]["callback_id"] == "goal_modal"

    event = json.loads(event_body({"type": "app_home_opened", "user": "U0001"}, team_id="T0002"))
    assert (event["type"], event["team_id"]) == ("event_callback", "T0002")


def test_blocks_to_text_renders_a_typical_nudge() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "This week: Listening"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Try this:* ask one open question. <https://ex.test/a|Read more>",
            },
        },
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Done"},
                    "style": "primary",
                },
                {"type": "button", "text": {"type": "plain_text", "text": "Skip"}},
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "Nudge 3 of 12"},
                {"type": "plain_text", "text": "Reply in thread to reflect"},
            ],
        },
    ]

    assert blocks_to_text(blocks).splitlines() == [
        "This week: Listening",
        "====================",
        "*Try this:* ask one open question. Read more (https://ex.test/a)",
        "─" * 40,
        "[ Done ] (primary)  [ Skip ]",
        "  ~ Nudge 3 of 12 · Reply in thread to reflect",
    ]
    assert (
        blocks_to_text(None, "fallback <https://x.test|link>") == "fallback link (https://x.test)"
    )


def test_view_to_text_shows_title_inputs_and_buttons() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Set a goal"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "Your goal"},
                "element": {"type": "plain_text_input", "action_id": "goal_text"},
            }
        ],
    }
    assert view_to_text(view).splitlines() == ["┌ Set a goal ┐", "<Your goal: [ … ]>", "[ Save ]"]


async def test_bolt_accepts_the_signed_bodies_and_answers_through_the_simulator(
    sim: SlackSimulator,
) -> None:
    secret = "bolt-secret"
    bolt = AsyncApp(signing_secret=secret, client=client_for(sim))

    @bolt.command("/leading-tip")
    async def tip(ack: AsyncAck, respond: AsyncRespond, command: dict) -> None:
        await ack()
        await respond(text=f"tip for {command['text']}")

    @bolt.action("nudge_done")
    async def done(ack: AsyncAck, respond: AsyncRespond, body: dict) -> None:
        await ack()
        await respond(text=f"done {body['actions'][0]['value']}", replace_original=True)

    @bolt.event("app_home_opened")
    async def home(event: dict, client: AsyncWebClient) -> None:
        await client.views_publish(user_id=event["user"], view={"type": "home", "blocks": []})

    async def dispatch(body: str, content_type: str) -> int:
        headers = signed_headers(secret, body, content_type=content_type)
        response = await bolt.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
        return response.status

    form = "application/x-www-form-urlencoded"
    command = slash_command_body("listening", response_url=sim.response_url("command"))
    action = block_action_body("nudge_done", "n-7", response_url=sim.response_url("action"))
    event = event_body({"type": "app_home_opened", "user": "U0001", "tab": "home"})

    assert await dispatch(command, form) == 200
    assert await dispatch(action, form) == 200
    assert await dispatch(event, "application/json") == 200
    assert [c.body["text"] for c in sim.calls_to("response_url")] == [
        "tip for listening",
        "done n-7",
    ]
    # Bolt runs event listeners after acknowledging, so wait for the publish to land.
    for _ in range(200):
        if sim.calls_to("views.publish"):
            break
        await asyncio.sleep(0.01)
    assert sim.home_view("U0001") is not None
    bad = signed_headers("wrong-secret", command)
    assert (await bolt.async_dispatch(AsyncBoltRequest(body=command, headers=bad))).status == 401


@pytest.mark.parametrize(
    ("token", "error"),
    [("xapp-1-A0001-unknown", "invalid_auth"), (DEFAULT_TOKEN, "not_allowed_token_type")],
)
async def test_socket_mode_connections_are_refused_to_unknown_and_bot_tokens(
    sim: SlackSimulator, token: str, error: str
) -> None:
    with pytest.raises(SlackApiError) as refused:
        await AsyncWebClient(base_url=sim.base_url).apps_connections_open(app_token=token)
    assert refused.value.response["error"] == error


async def test_socket_mode_delivers_envelopes_to_slack_sdks_client_and_records_its_acks(
    sim: SlackSimulator,
) -> None:
    sim.add_app_token()
    web = AsyncWebClient(base_url=sim.base_url)
    client = SocketModeClient(app_token=DEFAULT_APP_TOKEN, web_client=web, ping_interval=30)
    hellos: list[dict] = []
    requests: list[SocketModeRequest] = []

    async def on_message(_client: object, message: dict, _raw: str | None) -> None:
        if message.get("type") == "hello":
            hellos.append(message)

    async def on_request(client: SocketModeClient, request: SocketModeRequest) -> None:
        requests.append(request)
        answer = {"text": "kia ora"} if request.type == "slash_commands" else None
        await client.send_socket_mode_response(SocketModeResponse(request.envelope_id, answer))

    client.message_listeners.append(on_message)
    client.socket_mode_request_listeners.append(on_request)  # type: ignore[arg-type]
    await client.connect()
    try:
        await sim.wait_for_socket()
        command = {"command": "/leading-tip", "text": "blocker", "team_id": "T0001"}
        slash = await sim.deliver("slash_commands", command, accepts_response_payload=True)
        event = await sim.deliver("events_api", json.loads(event_body({"type": "app_mention"})))
        assert (await sim.wait_for_ack(slash)).payload == {"text": "kia ora"}
        assert (await sim.wait_for_ack(event)).payload is None
    finally:
        await client.close()
    [opened] = sim.calls_to("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {DEFAULT_APP_TOKEN}"
    assert hellos[0]["connection_info"] == {"app_id": "A0001"}
    assert [(r.type, r.accepts_response_payload) for r in requests] == [
        ("slash_commands", True),
        ("events_api", False),
    ]
    assert requests[0].payload == command
    assert requests[1].payload["event"] == {"type": "app_mention"}
    assert requests[1].retry_attempt == 0


async def test_an_app_token_only_opens_connections_and_each_url_connects_once(
    sim: SlackSimulator,
) -> None:
    token = sim.add_app_token()
    web = AsyncWebClient(base_url=sim.base_url, token=token)
    with pytest.raises(SlackApiError) as refused:
        await web.chat_postMessage(channel="U0001", text="hi")
    assert refused.value.response["error"] == "not_allowed_token_type"
    url = (await web.apps_connections_open(app_token=token))["url"]
    assert url.startswith(sim.url.replace("http://", "ws://"))
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as socket:
        assert (await socket.receive_json())["type"] == "hello"
        assert sim.sockets_open == 1
        with pytest.raises(aiohttp.WSServerHandshakeError) as again:
            await http.ws_connect(url)
        assert again.value.status == 401
    with pytest.raises(ValueError, match="no 'hello' envelopes"):
        await sim.deliver("hello", {})


async def test_conversations_members_pages_and_checks_scope_and_private_channels(
    sim: SlackSimulator,
) -> None:
    client = client_for(sim)
    people = [f"U{n:04d}" for n in range(5)]
    sim.set_channel_members("T0001", "C0TEAM", people)
    first = await client.conversations_members(channel="C0TEAM", limit=2)
    assert first["members"] == people[:2]
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_members(channel="C0TEAM", limit=3, cursor=cursor)
    assert second["members"] == people[2:] and second["response_metadata"]["next_cursor"] == ""
    event = sim.join_channel("T0001", "C0TEAM", "U0009")
    assert (event["type"], event["user"], event["channel"]) == (
        "member_joined_channel",
        "U0009",
        "C0TEAM",
    )
    assert sim.leave_channel("T0001", "C0TEAM", "U0000")["type"] == "member_left_channel"
    assert sim.channel_members("C0TEAM") == [*people[1:], "U0009"]
    sim.set_channel_members("T0001", "G0SECRET", ["U0001"])  # private, without the app
    for channel, error in (("G0SECRET", "channel_not_found"), ("C0NONE", "channel_not_found")):
        with pytest.raises(SlackApiError) as refused:
            await client.conversations_members(channel=channel)
        assert refused.value.response["error"] == error
    sim._workspace("T0001").scopes = ("commands", "chat:write")
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_members(channel="C0TEAM")
    assert refused.value.response["error"] == "missing_scope"


async def test_users_info_says_who_is_a_guest_a_bot_or_deactivated(sim: SlackSimulator) -> None:
    client = client_for(sim)
    sim.add_user("T0001", "UGUEST", is_restricted=True)
    sim.add_user("T0001", "USINGLE", is_ultra_restricted=True)
    sim.add_user("T0001", "UBOT2", is_bot=True)
    sim.add_user("T0001", "UGONE", deleted=True)
    flags = ("is_restricted", "is_ultra_restricted", "is_bot", "deleted")
    answers = {}
    for user in ("U0001", "UGUEST", "USINGLE", "UBOT2", "UGONE"):
        record = (await client.users_info(user=user))["user"]
        answers[user] = tuple(record[flag] for flag in flags)
    assert answers == {
        "U0001": (False, False, False, False),
        "UGUEST": (True, False, False, False),
        "USINGLE": (True, True, False, False),
        "UBOT2": (False, False, True, False),
        "UGONE": (False, False, False, True),
    }
