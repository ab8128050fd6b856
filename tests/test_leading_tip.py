"""`/leading-tip` over real signed HTTP, answered inside the ack, against the Slack simulator."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from bot.content import KIND_LABELS
from bot.models import SeenItem
from tests.conftest import RunningApp
from tests.helpers import message_text

LABEL_KINDS = {label: kind for kind, label in KIND_LABELS.items()}


def shown_item(reply: dict) -> tuple[str, str]:
    """(kind, text) of the item in a content reply."""
    for block in reply["blocks"]:
        if block["type"] == "section":
            label, _, text = block["text"]["text"].partition("\n")
            return LABEL_KINDS[label.strip("*")], text
    raise AssertionError(f"no item in {reply}")


async def test_five_tip_commands_give_five_different_tips(app: RunningApp) -> None:
    replies = [(await app.slack.slash("tip")).json() for _ in range(5)]
    texts = [shown_item(reply)[1] for reply in replies]
    assert len(set(texts)) == 5
    assert set(texts) == {item.text for item in app.ctx.library.items("tip")}
    assert all(reply["response_type"] == "ephemeral" for reply in replies)


async def test_sixth_tip_starts_a_new_round_without_repeating_within_it(app: RunningApp) -> None:
    texts = [shown_item((await app.slack.slash("tip")).json())[1] for _ in range(10)]
    assert len(set(texts[:5])) == 5 and len(set(texts[5:])) == 5


async def test_no_word_takes_turns_fairly_across_kinds(app: RunningApp) -> None:
    kinds = [shown_item((await app.slack.slash("")).json())[0] for _ in range(9)]
    assert Counter(kinds) == {"tip": 3, "practice": 3, "blocker": 3}


async def test_blocker_word_quotes_a_blocker_verbatim_with_its_source(app: RunningApp) -> None:
    reply = (await app.slack.slash("blocker")).json()
    kind, text = shown_item(reply)
    assert kind == "blocker"
    assert text in {item.text.replace("&", "&amp;") for item in app.ctx.library.items("blocker")}
    assert "Enhancing social system and sector performance" in message_text(reply)
    assert "Koru Ārahi" in message_text(reply)


async def test_reflect_word_gives_a_question_and_the_item_it_goes_with(app: RunningApp) -> None:
    reply = (await app.slack.slash("reflect")).json()
    kind, text = shown_item(reply)
    assert kind == "reflect"
    assert text in {question.text for question in app.ctx.library.questions()}
    assert "Goes with the" in message_text(reply)


async def test_each_person_has_their_own_rotation(app: RunningApp) -> None:
    for user in ("U0001", "U0002"):
        texts = {
            shown_item((await app.slack.slash("tip", user_id=user)).json())[1] for _ in range(5)
        }
        assert len(texts) == 5


async def test_unknown_word_suggests_the_closest_command(app: RunningApp) -> None:
    reply = (await app.slack.slash("weeky")).json()
    text = message_text(reply)
    assert "I don't know “weeky”" in text
    assert "Did you mean `/leading-tip weekly`?" in text
    assert "/leading-tip practice" in text  # the usage follows


async def test_help_lists_every_command_word(app: RunningApp) -> None:
    text = message_text((await app.slack.slash("help")).json())
    for word in (
        "tip",
        "practice",
        "blocker",
        "reflect",
        "weekly",
        "pause",
        "resume",
        "stop",
        "journal",
        "export",
        "forget",
        "stats",
        "cohort",
        "preview",
    ):
        assert word in text


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10_000,
        "🌿🙂 kia ora",
        "Ārahi tāngata hauora",
        "tip'; DROP TABLE members; --",
        "<!channel> & <@U0002>",
    ],
    ids=["10000-chars", "emoji", "macrons", "sql-looking", "slack-markup"],
)
async def test_odd_text_gets_a_normal_answer_and_breaks_nothing(app: RunningApp, text: str) -> None:
    reply = await app.slack.slash(text)
    assert reply.status == 200
    body = reply.json()
    assert body["response_type"] == "ephemeral"
    assert "/leading-tip help" in message_text(body) or "I don't know" in message_text(body)
    assert "<!channel>" not in message_text(body)  # typed markup is escaped, never pings anyone
    assert len(message_text(body)) < 3000
    follow_up = await app.slack.slash("tip")
    assert shown_item(follow_up.json())[0] == "tip"


async def test_practise_with_nz_spelling_is_understood(app: RunningApp) -> None:
    assert shown_item((await app.slack.slash("practise")).json())[0] == "practice"


async def test_another_button_replaces_the_message_with_the_next_item_of_that_kind(
    app: RunningApp,
) -> None:
    first = shown_item((await app.slack.slash("practice")).json())
    reply = await app.slack.click("another_item", "practice")
    assert reply.status == 200
    await app.settle()
    [sent] = app.sim.calls_to("response_url")
    assert sent.body["replace_original"] is True
    assert sent.body["response_type"] == "ephemeral"
    second = shown_item(sent.body)
    assert second[0] == "practice" and second[1] != first[1]


async def test_rotation_is_stored_in_the_database(app: RunningApp) -> None:
    await app.slack.slash("tip")
    await app.slack.slash("blocker")
    async with app.ctx.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(SeenItem))
    assert count == 2


async def test_slack_escaped_text_is_read_as_typed_and_shown_escaped_once(app: RunningApp) -> None:
    # With escaping on, Slack sends a typed "<b>&" as "&lt;b&gt;&amp;".
    body = (await app.slack.slash("&lt;b&gt;&amp;")).json()
    assert "I don't know “&lt;b&gt;&amp;”" in message_text(body)
