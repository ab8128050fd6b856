"""Signed but malformed requests get a clear answer (4xx, or 200 with a reply) within 3 s,
leave no traceback in the log, and change nothing.

Every request here goes through the real signed HTTP endpoint of the running app.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt.context.ack.async_ack import AsyncAck
from sqlalchemy import select, text

from bot import blocks
from bot.app import create_bolt_app
from bot.handlers.guard import GUARDED, guard
from bot.models import Base
from bot.services.reflections import MAX_REFLECTION_CHARS
from devkit.slack_sim import (
    block_action_body,
    event_body,
    slash_command_body,
    view_submission_body,
)
from tests.conftest import RunningApp
from tests.helpers import (
    CHANNEL,
    DUE,
    FORM,
    JSON,
    Answer,
    dispatch_at,
    dm,
    edit_event,
    message_text,
    reflections,
    say,
    send,
    subscribe,
    tracebacks,
    ts_at,
)

ANSWER_WITHIN = 3.0  # seconds: Slack gives up after 3


async def snapshot(app: RunningApp) -> dict[str, list[str]]:
    """Every row of every table, for "nothing changed"."""
    rows: dict[str, list[str]] = {}
    async with app.ctx.sessions() as session:
        for table in Base.metadata.sorted_tables:
            result = await session.execute(select(table))
            rows[table.name] = sorted(repr(tuple(row)) for row in result)
    return rows


async def answered(
    app: RunningApp, logs: pytest.LogCaptureFixture, body: bytes | str, **options: Any
) -> Answer:
    """Send, then check the answer came in time and the app logged no traceback doing it."""
    answer = await send(app, body, **options)
    await app.settle()
    assert answer.status < 500, answer
    assert answer.seconds < ANSWER_WITHIN, answer
    assert tracebacks(logs) == []
    return answer


def payload_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def action_payload(app: RunningApp, action_id: str, value: str, **drop: bool) -> dict[str, Any]:
    body = block_action_body(action_id, value, response_url=app.sim.response_url("action"))
    payload = json.loads(dict(_form(body))["payload"])
    for key in drop:
        payload.pop(key)
    return payload


def _form(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, keep_blank_values=True)


def last_reply(app: RunningApp) -> str:
    return message_text(app.sim.calls_to("response_url")[-1].body)


async def arrange_someone_with_a_nudge(app: RunningApp) -> None:
    """U0001 subscribed, sent a nudge, and wrote a reflection: rows a bad request could touch."""
    await subscribe(app)
    await dispatch_at(app, app.ctx.clock, DUE)  # type: ignore[arg-type]
    await say(app, dm("A first thought.", ts_at(DUE, 1)))
    app.sim.clear()


# --- bodies Bolt cannot parse ------------------------------------------------------------------

DEEP = '{"type": "event_callback", "team_id": "T0001", "event": ' + "[" * 5000 + "]" * 5000 + "}"


def _event(**fields: Any) -> str:
    event = {"type": "message", "channel": CHANNEL, "channel_type": "im", "user": "U0001"}
    event |= {"text": "hello", "ts": "1764446400.000100"} | fields
    return event_body(event)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param('{"type": "event_callback", ', JSON, id="invalid-json"),
        pytest.param("[]", JSON, id="a-list"),
        pytest.param('"event_callback"', JSON, id="a-string"),
        pytest.param("{}", JSON, id="an-empty-object"),
        pytest.param('{"type": "event_callback"}', JSON, id="event-callback-without-event"),
        pytest.param(
            '{"type": "event_callback", "team_id": "T0001", "event": "message"}',
            JSON,
            id="event-is-a-string",
        ),
        pytest.param(
            '{"type": "event_callback", "team_id": "T0001", "event": [{"type": "message"}]}',
            JSON,
            id="event-is-a-list",
        ),
        pytest.param(
            '{"type": "event_callback", "team_id": "T0001", "event": {"type": 5}}',
            JSON,
            id="event-type-is-a-number",
        ),
        pytest.param(
            '{"type": "app_rate_limited", "event": null}', JSON, id="event-is-null-elsewhere"
        ),
        pytest.param("payload=%7B", FORM, id="payload-is-not-json"),
        pytest.param("payload=%5B%5D", FORM, id="payload-is-a-list"),
        pytest.param(
            '{"type": "event_callback", "text": "caf\xe9"}'.encode("latin-1"),
            JSON,
            id="not-utf-8",
        ),
        pytest.param(DEEP, JSON, id="json-nested-5000-deep"),
        pytest.param('{"type": "url_verification", "challenge": NaN}', JSON, id="nan-is-not-json"),
        pytest.param(_event(text="\ud800"), JSON, id="lone-surrogate"),
        pytest.param(_event(user=5), JSON, id="user-id-is-a-number"),
        pytest.param(_event(channel=12345), JSON, id="channel-id-is-a-number"),
        pytest.param(
            event_body({"type": "app_home_opened", "user": ["U0001"], "tab": "home"}),
            JSON,
            id="home-user-is-a-list",
        ),
        pytest.param(
            json.dumps(json.loads(_event()) | {"team_id": 1}), JSON, id="team-id-is-a-number"
        ),
        pytest.param(
            json.dumps(json.loads(_event()) | {"authorizations": {"team_id": "T0001"}}),
            JSON,
            id="authorizations-is-not-a-list",
        ),
        pytest.param(
            slash_command_body("tip", response_url="not a url"), FORM, id="response-url-not-a-url"
        ),
        pytest.param("text=tip&team_id=T0001", FORM, id="a-form-that-is-no-slack-request"),
        pytest.param(
            "command=%2Fleading-tip&text=tip&team_id=T0001&user_id=U0001",
            FORM,
            id="slash-command-without-response-url",
        ),
        pytest.param('{"type": "shortcut", "callback_id": "x"}', JSON, id="a-kind-not-ours"),
        pytest.param('{"type": ["event_callback"]}', JSON, id="type-is-a-list"),
        pytest.param(
            payload_body({"type": "block_suggestion", "view": None}), FORM, id="view-is-null"
        ),
        pytest.param(
            payload_body(
                {
                    "type": "view_submission",
                    "user": {"id": "U0001"},
                    "team": {"id": "T0001"},
                    "view": {"callback_id": blocks.REFLECTION_MODAL},
                }
            ),
            FORM,
            id="view-without-a-type",
        ),
    ],
)
async def test_a_body_the_app_cannot_read_gets_400_and_changes_nothing(
    app: RunningApp, logs: pytest.LogCaptureFixture, body: str | bytes, content_type: str
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    answer = await answered(app, logs, body, content_type=content_type)
    assert answer.status == 400
    assert answer.json()["error"]
    assert await snapshot(app) == before
    assert app.sim.calls == []


@pytest.mark.parametrize(
    "payload_change",
    [
        pytest.param({"user": None}, id="no-user"),
        pytest.param({"user": {"id": 5}}, id="user-id-is-a-number"),
        pytest.param({"team": None}, id="no-team"),
        pytest.param({"team": "T0001"}, id="team-is-a-string"),
        pytest.param({"team": {"id": "T0001", "enterprise_id": "E" * 40}}, id="org-id-too-long"),
        pytest.param({"trigger_id": None}, id="no-trigger-id"),
        pytest.param({"trigger_id": ""}, id="empty-trigger-id"),
        pytest.param({"actions": []}, id="no-actions"),
        pytest.param({"actions": [{"value": "1"}]}, id="action-without-action-id"),
        pytest.param({"actions": ["nudge_snooze"]}, id="action-is-a-string"),
        pytest.param({"response_urls": "x"}, id="response-urls-is-a-string"),
    ],
)
async def test_a_button_press_missing_who_or_what_gets_400(
    app: RunningApp, logs: pytest.LogCaptureFixture, payload_change: dict[str, Any]
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    payload = action_payload(app, blocks.NUDGE_SNOOZE_ACTION, "1")
    payload["user"]["team_id"] = None
    for key, value in payload_change.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    answer = await answered(app, logs, payload_body(payload), content_type=FORM)
    assert answer.status == 400
    assert await snapshot(app) == before


async def test_a_button_from_an_org_wide_install_names_its_team_on_the_user(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    payload = action_payload(app, blocks.JOURNAL_OLDER_ACTION, "0")
    payload["team"] = None
    answer = await answered(app, logs, payload_body(payload), content_type=FORM)
    assert answer.status == 200
    assert "journal" in last_reply(app).lower()


@pytest.mark.parametrize("stamp", ["abc", "", "1e9", "²", "9" * 5000, "-1", " 1764446400"])
async def test_a_timestamp_that_is_not_a_number_gets_401(
    app: RunningApp, logs: pytest.LogCaptureFixture, stamp: str
) -> None:
    body = slash_command_body("tip", response_url=app.sim.response_url("x"))
    answer = await answered(app, logs, body, content_type=FORM, timestamp=stamp)
    assert answer.status == 401
    assert all(rows == [] for rows in (await snapshot(app)).values())


async def test_slash_command_text_with_the_word_payload_is_read_as_typed(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    body = slash_command_body("payload", response_url=app.sim.response_url("x"))
    answer = await answered(app, logs, body, content_type=FORM)
    assert answer.status == 200
    assert "I don't know “payload”" in answer.json()["text"]


# --- values the app sent, coming back changed --------------------------------------------------


async def test_pause_with_five_thousand_digits_gets_the_pause_help(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    body = slash_command_body("pause " + "9" * 5000, response_url=app.sim.response_url("x"))
    answer = await answered(app, logs, body, content_type=FORM)
    assert answer.status == 200
    assert "Pause for 1 to 12 weeks" in last_reply(app)
    assert await snapshot(app) == before


@pytest.mark.parametrize("value", ["²", "9" * 20, "-1", "", "٣"])
@pytest.mark.parametrize(
    "action_id",
    [
        blocks.NUDGE_SNOOZE_ACTION,
        blocks.NUDGE_SKIP_ACTION,
        blocks.BACKOFF_FORTNIGHTLY_ACTION,
        blocks.JOURNAL_OLDER_ACTION,
    ],
)
async def test_a_button_value_the_app_never_sent_gets_a_clear_reply(
    app: RunningApp, logs: pytest.LogCaptureFixture, action_id: str, value: str
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    payload = action_payload(app, action_id, value)
    answer = await answered(app, logs, payload_body(payload), content_type=FORM)
    assert answer.status == 200
    assert "couldn't read that button" in last_reply(app)
    assert await snapshot(app) == before


@pytest.mark.parametrize("value", ["²", "9" * 20, "-1", "abc"])
async def test_a_reflect_button_with_a_strange_value_still_opens_the_box(
    app: RunningApp, logs: pytest.LogCaptureFixture, value: str
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    payload = action_payload(app, blocks.NUDGE_REFLECT_ACTION, value)
    answer = await answered(app, logs, payload_body(payload), content_type=FORM)
    assert answer.status == 200
    [opened] = app.sim.calls_to("views.open")
    assert opened.body["view"]["callback_id"] == blocks.REFLECTION_MODAL
    assert opened.body["view"]["private_metadata"] == "0"  # not linked to any nudge
    assert await snapshot(app) == before


@pytest.mark.parametrize(
    "action_id",
    [
        blocks.NUDGE_REFLECT_ACTION,
        blocks.HOME_CHANGE_ACTION,
        blocks.HOME_JOURNAL_ACTION,
        blocks.HOME_TIP_ACTION,
    ],
)
async def test_a_trigger_id_slack_refuses_leaves_no_modal_and_no_traceback(
    app: RunningApp, logs: pytest.LogCaptureFixture, action_id: str
) -> None:
    app.sim.fail("views.open", error="invalid_trigger_id")
    payload = action_payload(app, action_id, "1")
    payload["trigger_id"] = "not-a-trigger"
    answer = await answered(app, logs, payload_body(payload), content_type=FORM)
    assert answer.status == 200
    assert "could not open a modal: invalid_trigger_id" in logs.text


@pytest.mark.parametrize(
    "action_id",
    [blocks.JOURNAL_OLDER_ACTION, blocks.NUDGE_SNOOZE_ACTION, blocks.ANOTHER_ACTION],
)
async def test_a_message_button_pressed_where_there_is_no_response_url_is_acked(
    app: RunningApp, logs: pytest.LogCaptureFixture, action_id: str
) -> None:
    """Slack sends no response_url for presses on the Home tab or in a modal: nothing to
    answer through, and Bolt's respond would raise."""
    body = block_action_body(action_id, "tip", view={"id": "V1", "type": "home"})
    answer = await answered(app, logs, body, content_type=FORM)
    assert answer.status == 200
    assert app.sim.calls_to("response_url") == []


async def test_a_button_from_someone_slack_does_not_know_still_gets_an_answer(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    """Home for a person the workspace has never heard of: Slack refuses, the app carries on."""
    answer = await answered(
        app,
        logs,
        event_body({"type": "app_home_opened", "user": "UNOBODY", "tab": "home", "channel": "D9"}),
    )
    assert answer.status == 200
    assert "could not publish Home" in logs.text


# --- modal submissions -------------------------------------------------------------------------

REFLECTION_STATES: list[Any] = [
    None,
    {},
    {"values": None},
    {"values": {"reflection": "text"}},
    {"values": {"reflection": {"reflection_text": {"value": 5}}}},
    {"values": {"reflection": {"reflection_text": {"value": ["a thought"]}}}},
    {"values": {"reflection": {"reflection_text": "a thought"}}},
]


def modal_body(callback_id: str, state: Any, private_metadata: str = "") -> str:
    payload = json.loads(
        dict(_form(view_submission_body(callback_id, {}, private_metadata=private_metadata)))[
            "payload"
        ]
    )
    if state is None:
        payload["view"].pop("state")
    else:
        payload["view"]["state"] = state
    return payload_body(payload)


@pytest.mark.parametrize("state", REFLECTION_STATES)
async def test_a_reflection_modal_with_unreadable_state_asks_again(
    app: RunningApp, logs: pytest.LogCaptureFixture, state: Any
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    answer = await answered(
        app, logs, modal_body(blocks.REFLECTION_MODAL, state), content_type=FORM
    )
    assert answer.status == 200
    assert answer.json() == {
        "response_action": "errors",
        "errors": {blocks.REFLECTION_BLOCK: blocks.EMPTY_REFLECTION},
    }
    assert await snapshot(app) == before


@pytest.mark.parametrize("metadata", ["²", "9" * 20, "-3"])
async def test_a_reflection_modal_with_strange_metadata_saves_as_a_free_entry(
    app: RunningApp, logs: pytest.LogCaptureFixture, metadata: str
) -> None:
    state = {"values": {"reflection": {"reflection_text": {"value": "Still counts."}}}}
    answer = await answered(
        app, logs, modal_body(blocks.REFLECTION_MODAL, state, metadata), content_type=FORM
    )
    assert answer.status == 200 and answer.body == ""
    [saved] = await reflections(app)
    assert (saved.text, saved.delivery_id) == ("Still counts.", None)


def schedule_state(day: Any, at: Any) -> dict[str, Any]:
    return {
        "values": {
            "day": {"day_select": {"type": "static_select", "selected_option": day}},
            "time": {"time_picker": {"type": "timepicker", "selected_time": at}},
        }
    }


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(None, id="no-state"),
        pytest.param({"values": []}, id="values-is-a-list"),
        pytest.param(schedule_state({"value": "9"}, "09:00"), id="day-9"),
        pytest.param(schedule_state({"value": "-1"}, "09:00"), id="day-minus-1"),
        pytest.param(schedule_state({"value": "²"}, "09:00"), id="day-superscript"),
        pytest.param(schedule_state({"value": "9" * 20}, "09:00"), id="day-20-digits"),
        pytest.param(schedule_state({"value": 3}, "09:00"), id="day-is-a-number"),
        pytest.param(schedule_state(None, "09:00"), id="no-day"),
        pytest.param(schedule_state("3", "09:00"), id="day-option-is-a-string"),
        pytest.param(schedule_state({"value": "3"}, 930), id="time-is-a-number"),
        pytest.param(schedule_state({"value": "3"}, "25:00"), id="time-25"),
        pytest.param(schedule_state({"value": "3"}, "9"), id="time-without-minutes"),
        pytest.param(schedule_state({"value": "3"}, "9:5:3"), id="time-three-parts"),
        pytest.param(schedule_state({"value": "3"}, "²:00"), id="time-superscript"),
        pytest.param(schedule_state({"value": "3"}, None), id="no-time"),
    ],
)
async def test_a_schedule_modal_with_unreadable_state_asks_again(
    app: RunningApp, logs: pytest.LogCaptureFixture, state: Any
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    answer = await answered(app, logs, modal_body(blocks.SCHEDULE_MODAL, state), content_type=FORM)
    assert answer.status == 200
    assert answer.json()["response_action"] == "errors"
    assert "Choose a day and a time" in answer.json()["errors"][blocks.TIME_BLOCK]
    assert await snapshot(app) == before


# --- DM events ---------------------------------------------------------------------------------


async def test_a_dm_with_a_nul_byte_is_saved_without_it(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    answer = await answered(app, logs, _event(text="Before\x00after.", ts=ts_at(DUE)))
    assert answer.status == 200
    [saved] = await reflections(app)
    assert saved.text == "Beforeafter."
    assert app.sim.calls_to("reactions.add")


async def test_an_edit_with_a_nul_byte_is_saved_without_it(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    await say(app, dm("First.", ts_at(DUE)))
    edit = edit_event(ts_at(DUE), "Sec\x00ond.")
    await answered(app, logs, event_body(edit))
    [saved] = await reflections(app)
    assert saved.text == "Second."


BAD_TS = ["abc", "nan", "1e400", "", "-1.5", "99999999999.1"]


@pytest.mark.parametrize("ts", BAD_TS)
@pytest.mark.parametrize("field", ["ts", "thread_ts"])
async def test_a_dm_with_a_timestamp_that_is_not_slacks_stores_nothing(
    app: RunningApp, logs: pytest.LogCaptureFixture, field: str, ts: str
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    answer = await answered(app, logs, _event(**{field: ts}))
    assert answer.status == 400
    assert await snapshot(app) == before


@pytest.mark.parametrize("ts", BAD_TS)
@pytest.mark.parametrize("subtype", ["message_changed", "message_deleted"])
async def test_an_edit_or_delete_with_a_bad_timestamp_changes_nothing(
    app: RunningApp, logs: pytest.LogCaptureFixture, subtype: str, ts: str
) -> None:
    await arrange_someone_with_a_nudge(app)
    before = await snapshot(app)
    event: dict[str, Any] = {"type": "message", "subtype": subtype, "channel": CHANNEL}
    event |= {"channel_type": "im", "ts": ts_at(DUE, 9)}
    if subtype == "message_changed":
        event["message"] = {"type": "message", "user": "U0001", "text": "x", "ts": ts}
    else:
        event["deleted_ts"] = ts
    answer = await answered(app, logs, event_body(event))
    assert answer.status == 400
    assert await snapshot(app) == before


LONG_ID = "U" + "1" * 40


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_event(user=LONG_ID), id="user"),
        pytest.param(_event(channel="D" + "1" * 40), id="channel"),
        pytest.param(event_body(json.loads(_event())["event"], team_id=LONG_ID), id="team"),
        pytest.param(
            event_body({"type": "app_home_opened", "user": LONG_ID, "tab": "home"}),
            id="home-user",
        ),
        pytest.param(
            slash_command_body("weekly", user_id=LONG_ID, response_url="http://127.0.0.1:9/r"),
            id="slash-user",
        ),
        pytest.param(block_action_body("home_tip", "", user_id=LONG_ID), id="button-user"),
        pytest.param(block_action_body("home_tip", "", team_id="T" + "1" * 40), id="button-team"),
    ],
)
async def test_an_id_longer_than_the_column_stores_nothing(
    app: RunningApp, logs: pytest.LogCaptureFixture, body: str
) -> None:
    before = await snapshot(app)
    content_type = JSON if body.startswith("{") else FORM
    answer = await answered(app, logs, body, content_type=content_type)
    assert answer.status == 400
    assert await snapshot(app) == before
    assert app.sim.calls == []


# --- size ----------------------------------------------------------------------------------------


async def test_a_chunked_body_over_the_cap_gets_413_and_stores_nothing(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    body = _event(text="x" * 3_000_000, ts=ts_at(DUE))
    answer = await answered(app, logs, body, chunked=True)
    assert answer.status == 413
    assert await reflections(app) == []


async def test_a_chunked_body_under_the_cap_is_read_whole(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    padding = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2000}}] * 100
    body = _event(text="Sent in pieces.", ts=ts_at(DUE), blocks=padding)
    assert len(body) > 200_000
    answer = await answered(app, logs, body, chunked=True)
    assert answer.status == 200
    assert [r.text for r in await reflections(app)] == ["Sent in pieces."]


async def test_a_reflection_at_the_cap_is_saved(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    text = "a" * MAX_REFLECTION_CHARS
    answer = await answered(app, logs, _event(text=text, ts=ts_at(DUE)))
    assert answer.status == 200
    [saved] = await reflections(app)
    assert saved.text == text
    assert app.sim.calls_to("reactions.add")


async def test_a_reflection_over_the_cap_is_not_saved_and_the_person_is_told(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    text = "a" * (MAX_REFLECTION_CHARS + 1)
    answer = await answered(app, logs, _event(text=text, ts=ts_at(DUE), thread_ts=ts_at(DUE)))
    assert answer.status == 200
    assert await reflections(app) == []
    [reply] = app.sim.calls_to("chat.postMessage")
    assert reply.body["channel"] == CHANNEL
    assert f"{MAX_REFLECTION_CHARS:,} characters" in reply.body["text"]
    assert "split" in reply.body["text"]
    assert app.sim.calls_to("reactions.add") == []


async def test_an_edit_over_the_cap_keeps_the_saved_words_and_says_so(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    await say(app, dm("Short and kept.", ts_at(DUE)))
    app.sim.clear()
    edit = edit_event(ts_at(DUE), "b" * (MAX_REFLECTION_CHARS + 1))
    answer = await answered(app, logs, event_body(edit))
    assert answer.status == 200
    [saved] = await reflections(app)
    assert saved.text == "Short and kept."
    [reply] = app.sim.calls_to("chat.postMessage")
    assert f"{MAX_REFLECTION_CHARS:,} characters" in reply.body["text"]
    assert "earlier words" in reply.body["text"]


# --- a listener that fails ---------------------------------------------------------------------


async def test_a_listener_failing_right_after_its_ack_is_answered_at_once(
    app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    """The journal button acks, then its first query fails (the table is gone): a real fault,
    so a traceback is logged, but Slack gets its 200 at once, not a 500 three seconds later."""
    async with app.ctx.engine.begin() as connection:
        await connection.execute(text("ALTER TABLE reflections RENAME TO reflections_away"))
    try:
        payload = action_payload(app, blocks.JOURNAL_OLDER_ACTION, "10")
        answer = await send(app, payload_body(payload), content_type=FORM)
        await app.settle()
    finally:
        async with app.ctx.engine.begin() as connection:
            await connection.execute(text("ALTER TABLE reflections_away RENAME TO reflections"))
    assert answer.status == 200
    assert answer.seconds < 1.0
    assert "listener older failed" in logs.text


def test_every_listener_is_guarded(app: RunningApp) -> None:
    bolt_app = create_bolt_app(app.ctx)
    listeners = bolt_app._async_listeners  # Bolt has no public list of its listeners
    assert len(listeners) > 10
    unguarded = [
        listener.ack_function.__name__
        for listener in listeners
        if not getattr(listener.ack_function, GUARDED, False)
    ]
    assert unguarded == []


async def test_guard_acks_for_a_listener_that_failed_before_acking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @guard
    async def fails_early(ack: AsyncAck) -> None:
        raise KeyError("user")

    ack = AsyncAck()
    await fails_early(ack=ack)
    assert ack.response is not None and ack.response.status == 200
    assert "listener fails_early failed" in caplog.text


async def test_guard_leaves_an_ack_already_given_alone(caplog: pytest.LogCaptureFixture) -> None:
    @guard
    async def fails_late(ack: AsyncAck) -> None:
        await ack(text="done")
        raise ValueError("after")

    ack = AsyncAck()
    await fails_late(ack=ack)
    assert ack.response is not None and "done" in str(ack.response.body)
