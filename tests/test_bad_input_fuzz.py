"""Generated requests of every kind, all validly signed, through the real HTTP endpoint.

Each case must be answered below 500 within 3 s, leave no traceback in the log, and change no
row of the people seeded first (who are never the sender). FUZZ_EXAMPLES sets the number of
cases per kind and database (default 200); each test prints how many it tried.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import or_, select

from bot import blocks
from bot.commands import ALIASES, WORDS
from bot.models import Base
from devkit.slack_sim import block_action_body, event_body, view_submission_body
from tests.conftest import RunningApp
from tests.helpers import DUE, FORM, JSON, dispatch_at, dm, say, send, subscribe, tracebacks, ts_at

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# The people who must not be touched: their ids use letters the generators never do.
OTHERS = [("T0001", "UOTHER1"), ("TOTHERS", "UOTHER2")]

# --- values ------------------------------------------------------------------------------------

ID_LETTERS = "TUWDC0123456789AB"
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_any = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
good_ids = st.sampled_from(["U0001", "U0002", "T0001", "D0001", "DU0001"])
ids = st.one_of(good_ids, good_ids, good_ids, st.text(alphabet=ID_LETTERS, max_size=40), json_leaf)
team_ids = st.one_of(st.just("T0001"), ids)
numbers = st.one_of(
    st.integers(min_value=-5, max_value=2**70).map(str),
    st.sampled_from(["²", "٣", "1.5", "", "9" * 20, "-0", "00001"]),
    st.text(max_size=12),
)
texts = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=50).map(lambda t: t + "\x00" + t),
    st.builds(lambda n: "x" * n, st.integers(min_value=9_990, max_value=10_010)),
)
words = st.sampled_from([*WORDS, *ALIASES, "pause until", "weekly tue", "pause 9" + "9" * 5000])
slash_texts = st.one_of(
    texts, st.builds(lambda w, rest: f"{w} {rest}", words, st.text(max_size=40))
)
good_ts = st.builds(
    lambda s, us: f"{s}.{us:06d}",
    st.integers(1_700_000_000, 1_800_000_000),
    st.integers(0, 999_999),
)
timestamps = st.one_of(
    good_ts, st.sampled_from(["abc", "nan", "1e400", "inf", "", "1", "-1.5", "1.2.3"]), json_leaf
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the value; sometimes null, sometimes any JSON at all."""
    return st.one_of(*[value] * 6, st.none(), json_any)


def fields(**strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with each field present or missing."""
    return st.fixed_dictionaries({}, optional=strategies)


DELETE = object()  # a mutation that removes the field


def put(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    """Set (or with DELETE remove) body[path...], if the way there is still made of objects."""
    *parents, last = path
    node: Any = body
    for key in parents:
        node = _child(node, key)
        if node is None:
            return
    if isinstance(node, dict):
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        if value is DELETE:
            del node[last]
        else:
            node[last] = value


def _child(node: Any, key: Any) -> Any:
    if isinstance(node, dict) and isinstance(key, str):
        child = node.get(key)
    elif isinstance(node, list) and isinstance(key, int) and key < len(node):
        child = node[key]
    else:
        return None
    return child if isinstance(child, dict | list) else None


Mutation = tuple[tuple[Any, ...], st.SearchStrategy[Any]]


def mutate(data: st.DataObject, body: dict[str, Any], mutations: list[Mutation]) -> dict[str, Any]:
    """A well-formed body with up to three of its fields changed to anything, or removed."""
    chosen = data.draw(st.lists(st.sampled_from(range(len(mutations))), max_size=3, unique=True))
    for index in chosen:
        path, strategy = mutations[index]
        put(body, path, data.draw(st.one_of(strategy, strategy, st.just(DELETE), json_any)))
    return body


ACTION_IDS = [
    getattr(blocks, name) for name in dir(blocks) if name.endswith("_ACTION") and name.isupper()
]
KINDS_OF_ITEM = st.sampled_from(["tip", "practice", "blocker", "reflect"])


def response_url(app: RunningApp) -> st.SearchStrategy[Any]:
    # Only ever the simulator: nothing here may reach beyond this machine.
    simulator = st.builds(lambda: app.sim.response_url("fuzz"))
    return st.one_of(simulator, simulator, simulator, st.sampled_from(["", "x"]))


def form_payload(payload: dict[str, Any]) -> tuple[str, str]:
    return urlencode({"payload": json.dumps(payload)}), FORM


def slash_command(data: st.DataObject, app: RunningApp) -> tuple[str, str]:
    form = data.draw(
        st.fixed_dictionaries(
            {
                "command": st.one_of(*[st.just("/leading-tip")] * 4, st.text(max_size=20)),
                "text": slash_texts,
                "team_id": st.one_of(st.just("T0001"), st.just("T0001"), ids.map(str)),
                "user_id": st.one_of(good_ids, good_ids, ids.map(str)),
                "response_url": response_url(app),
            },
            optional={"channel_id": ids.map(str), "trigger_id": st.text(max_size=30)},
        )
    )
    return urlencode(form), FORM


def button_press(data: st.DataObject, app: RunningApp) -> tuple[str, str]:
    action_id = data.draw(st.one_of(st.sampled_from(ACTION_IDS), st.text(max_size=20)))
    value = data.draw(st.one_of(numbers, KINDS_OF_ITEM))
    user = data.draw(good_ids)
    on_home = data.draw(st.booleans())
    raw = block_action_body(
        action_id,
        value,
        user_id=user,
        response_url=None if on_home else app.sim.response_url("fuzz"),
        view={"id": "V0001", "type": "home"} if on_home else None,
    )
    payload = json.loads(dict(parse_qsl(raw))["payload"])
    return form_payload(
        mutate(
            data,
            payload,
            [
                (("actions", 0, "value"), json_any),
                (("actions", 0, "action_id"), st.text(max_size=10)),
                (("actions", 0, "selected_option"), fields(value=maybe(numbers))),
                (("actions",), st.lists(json_any, max_size=2)),
                (("actions", 0), json_any),
                (("user",), fields(id=maybe(ids), team_id=maybe(team_ids))),
                (("user", "id"), ids),
                (("user", "team_id"), team_ids),
                (("team",), st.none() | team_ids),
                (("team", "id"), team_ids),
                (("trigger_id",), json_leaf),
                (("response_url",), response_url(app)),
                (("view",), json_any),
                (("container",), json_any),
                (("message",), json_any),
                (("type",), st.text(max_size=15)),
            ],
        )
    )


def modal_submission(data: st.DataObject) -> tuple[str, str]:
    callback_id = data.draw(
        st.one_of(st.sampled_from([blocks.REFLECTION_MODAL, blocks.SCHEDULE_MODAL]), st.text())
    )
    reflection = {
        "reflection": {"reflection_text": {"type": "plain_text_input", "value": data.draw(texts)}}
    }
    day = str(data.draw(st.integers(0, 6)))
    at = data.draw(st.sampled_from(["09:00", "14:45", "00:00", "23:59"]))
    schedule = {
        "day": {"day_select": {"type": "static_select", "selected_option": {"value": day}}},
        "time": {"time_picker": {"type": "timepicker", "selected_time": at}},
    }
    values = data.draw(st.sampled_from([reflection, schedule]))
    metadata = data.draw(st.one_of(st.just(""), numbers))
    user = data.draw(good_ids)
    raw = view_submission_body(callback_id, values, user_id=user, private_metadata=metadata)
    payload = json.loads(dict(parse_qsl(raw))["payload"])
    text_path = ("view", "state", "values", "reflection", "reflection_text", "value")
    day_path = ("view", "state", "values", "day", "day_select", "selected_option")
    time_path = ("view", "state", "values", "time", "time_picker", "selected_time")
    return form_payload(
        mutate(
            data,
            payload,
            [
                (text_path, json_leaf),
                ((*day_path, "value"), numbers),
                (day_path, json_any),
                (time_path, st.text(alphabet="0123456789:²", max_size=6)),
                (("view", "state"), json_any),
                (("view", "state", "values"), json_any),
                (("view", "private_metadata"), json_leaf),
                (("view", "callback_id"), json_leaf),
                (("view",), json_any),
                (("user",), json_any),
                (("user", "id"), ids),
                (("team",), json_any),
                (("type",), st.sampled_from(["view_closed", "view_submission", "shortcut"])),
            ],
        )
    )


def an_event(data: st.DataObject) -> tuple[str, str]:
    user = data.draw(good_ids)
    channel = data.draw(st.sampled_from(["D0001", "DU0001", "C0001"]))
    ts = data.draw(good_ts)
    kind = data.draw(st.sampled_from(["new", "new", "changed", "deleted", "home", "workspace"]))
    team_id = "T0001"
    event: dict[str, Any] = {"channel": channel, "channel_type": "im", "ts": ts}
    if kind == "new":
        event |= {"type": "message", "user": user, "text": data.draw(texts)}
        if data.draw(st.booleans()):
            event["thread_ts"] = data.draw(good_ts)
    elif kind == "changed":
        message = {"type": "message", "user": user, "text": data.draw(texts), "ts": ts}
        event |= {"type": "message", "subtype": "message_changed", "message": message}
    elif kind == "deleted":
        event |= {"type": "message", "subtype": "message_deleted", "deleted_ts": ts}
    elif kind == "home":
        event = {"type": "app_home_opened", "user": user, "tab": "home", "channel": channel}
    else:
        # A whole workspace's uninstall legitimately stops everyone in it: never theirs here.
        team_id = data.draw(st.text(alphabet=ID_LETTERS, min_size=1, max_size=32))
        assume(team_id != "T0001")
        event = {"type": data.draw(st.sampled_from(["app_uninstalled", "tokens_revoked"]))}
        event["tokens"] = {"bot": [user]}
    body = json.loads(event_body(event, team_id=team_id))
    body = mutate(
        data,
        body,
        [
            (("event", "user"), ids),
            (("event", "channel"), ids),
            (("event", "text"), json_leaf),
            (("event", "ts"), timestamps),
            (("event", "thread_ts"), timestamps),
            (("event", "deleted_ts"), timestamps),
            (("event", "subtype"), st.sampled_from(["message_changed", "bot_message"])),
            (("event", "channel_type"), st.sampled_from(["im", "channel", "mpim"])),
            (("event", "message"), json_any),
            (("event", "message", "ts"), timestamps),
            (("event", "message", "user"), ids),
            (("event", "bot_id"), json_leaf),
            (("event", "tab"), json_leaf),
            (("event", "type"), json_leaf),
            (("event", "team"), team_ids),
            (("event", "tokens"), json_any),
            (("event",), json_any),
            (("team_id",), team_ids),
            (("authorizations",), json_any),
            (("authorizations", 0, "team_id"), ids),
            (("type",), json_leaf),
        ],
    )
    kind = body["event"].get("type") if isinstance(body.get("event"), dict) else None
    assume(kind not in ("app_uninstalled", "tokens_revoked") or body.get("team_id") != "T0001")
    return json.dumps(body), JSON


def garbage() -> st.SearchStrategy[tuple[bytes, str]]:
    raw = st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        json_any.map(lambda v: json.dumps(v).encode()),
        st.builds(lambda n: (b"[" * n) + (b"]" * n), st.integers(1, 6000)),
        st.builds(lambda n: (b'{"a":' * n) + b"1" + (b"}" * n), st.integers(1, 6000)),
        json_any.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
        st.text(max_size=50).map(lambda t: urlencode({"payload": t}).encode()),
    )
    content_types = st.sampled_from([JSON, FORM, "text/plain", ""])
    return st.tuples(raw, content_types)


# --- the checks --------------------------------------------------------------------------------


async def seed_others(app: RunningApp) -> None:
    """Two people with a subscription, a nudge, a reflection and seen items."""
    for team_id, user_id in OTHERS:
        app.sim.add_user("T0001", user_id)
        await app.slack.slash("weekly", team_id=team_id, user_id=user_id)
        await app.slack.slash("tip", team_id=team_id, user_id=user_id)
        await app.settle()
    await dispatch_at(app, app.ctx.clock, DUE)  # type: ignore[arg-type]
    for number, (team_id, user_id) in enumerate(OTHERS):
        event = dm("Mine alone.", ts_at(DUE, number), user=user_id, channel="D" + user_id)
        await say(app, event | {"team": team_id})
    await subscribe(app)  # U0001 too, so buttons and pauses have something to act on


async def others_rows(app: RunningApp) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    async with app.ctx.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if "user_id" not in table.c:
                continue
            people = [(table.c.team_id == t) & (table.c.user_id == u) for t, u in OTHERS]
            result = await session.execute(select(table).where(or_(*people)))
            rows[table.name] = sorted(repr(tuple(row)) for row in result)
    return rows


class Fuzz:
    def __init__(self, app: RunningApp, logs: pytest.LogCaptureFixture) -> None:
        self.app = app
        self.logs = logs
        self.tried = 0
        self.failures = 0
        self.statuses: dict[int, int] = {}
        self.before: dict[str, list[str]] = {}

    async def start(self) -> None:
        await seed_others(self.app)
        self.before = await others_rows(self.app)
        assert all(self.before[name] for name in ("members", "schedules", "reflections"))
        self.logs.clear()

    async def check(self, body: str | bytes, content_type: str) -> None:
        self.tried += 1
        self.logs.clear()
        self.failures += 1  # until every check below has passed
        answer = await send(self.app, body, content_type=content_type)
        await self.app.settle()
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
        assert answer.status < 500, answer
        assert answer.seconds < 3.0, answer
        assert tracebacks(self.logs) == []
        assert await others_rows(self.app) == self.before
        self.app.sim.clear()
        self.failures -= 1


@pytest.fixture
async def fuzz(
    app: RunningApp, logs: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> AsyncIterator[Fuzz]:
    runner = Fuzz(app, logs)
    await runner.start()
    yield runner
    # Read by the closing note: how many cases each kind tried, on which database.
    print(
        f"{request.node.name}: {runner.tried} cases tried, failures: {runner.failures}, "
        f"answers {runner.statuses}"
    )


# --- the tests ---------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
async def test_slash_commands_with_any_text(fuzz: Fuzz, data: st.DataObject) -> None:
    await fuzz.check(*slash_command(data, fuzz.app))


@FUZZ
@given(data=st.data())
async def test_button_presses_with_any_ids_values_and_missing_fields(
    fuzz: Fuzz, data: st.DataObject
) -> None:
    await fuzz.check(*button_press(data, fuzz.app))


@FUZZ
@given(data=st.data())
async def test_modal_submissions_with_any_state(fuzz: Fuzz, data: st.DataObject) -> None:
    await fuzz.check(*modal_submission(data))


@FUZZ
@given(data=st.data())
async def test_events_with_any_fields_and_types(fuzz: Fuzz, data: st.DataObject) -> None:
    await fuzz.check(*an_event(data))


@FUZZ
@given(body=garbage())
async def test_raw_garbage_bodies(fuzz: Fuzz, body: tuple[bytes, str]) -> None:
    await fuzz.check(*body)
