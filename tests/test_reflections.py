"""Replies in the DM become a private journal: captured once, editable, exportable, forgettable."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.models import Delivery, Member, Reflection, Schedule, SeenItem
from bot.services.reflections import MAX_REFLECTION_CHARS
from tests.conftest import RunningApp
from tests.helpers import (
    CHANNEL,
    DUE,
    blocks_text,
    delete_event,
    dm,
    edit_event,
    elements,
    open_reflect_modal,
    reflections,
    say,
    send_nudge,
    submit_modal,
    subscribe,
    ts_at,
)

# --- capture -----------------------------------------------------------------------------


async def test_reply_in_nudge_thread_is_saved_as_a_reflection_on_that_nudge(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    ts = ts_at(DUE + timedelta(hours=2))
    await say(
        app, dm("I shared the referral data with the PHO team.", ts, thread_ts=nudge.message_ts)
    )
    [saved] = await reflections(app)
    assert (saved.source, saved.delivery_id, saved.item_id, saved.question_id) == (
        "thread",
        nudge.id,
        nudge.item_id,
        nudge.question_id,
    )
    [reaction] = app.sim.calls_to("reactions.add")
    assert reaction.body["name"] == "white_check_mark" and reaction.body["timestamp"] == ts
    assert app.sim.calls_to("chat.postMessage")[-1].body.get("metadata")  # no chatty reply


async def test_top_level_reply_within_a_week_answers_the_latest_nudge(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    await say(app, dm("Met the council housing lead.", ts_at(DUE + timedelta(days=3))))
    [saved] = await reflections(app)
    assert (saved.source, saved.delivery_id) == ("dm", nudge.id)
    async with app.ctx.sessions() as session:
        delivery = await session.get(Delivery, nudge.id)
        schedule = await session.scalar(select(Schedule))
    assert delivery is not None and delivery.reflected_at is not None
    assert schedule is not None and schedule.unanswered == 0


async def test_message_long_after_a_nudge_or_without_one_is_a_free_journal_entry(
    app: RunningApp, clock: ManualClock
) -> None:
    await say(app, dm("No nudge yet, just a thought.", ts_at(DUE)))
    await send_nudge(app, clock)
    await say(app, dm("Much later.", ts_at(DUE + timedelta(days=9))))
    assert [(r.source, r.delivery_id) for r in await reflections(app)] == [
        ("free", None),
        ("free", None),
    ]


async def test_the_same_event_twice_or_retried_stores_one_reflection(
    app: RunningApp, clock: ManualClock
) -> None:
    event = dm("Once only.", ts_at(DUE))
    await say(app, event)
    await say(app, event)
    await say(app, event, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert len(await reflections(app)) == 1
    assert len(app.sim.calls_to("reactions.add")) == 1


async def test_edit_in_slack_updates_the_text_and_keeps_when(
    app: RunningApp, clock: ManualClock
) -> None:
    ts = ts_at(DUE)
    await say(app, dm("First draft.", ts))
    clock.set(DUE + timedelta(minutes=5))
    await say(
        app,
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": CHANNEL,
            "channel_type": "im",
            "ts": ts_at(DUE, 9),
            "message": {"type": "message", "user": "U0001", "text": "Second draft.", "ts": ts},
            "previous_message": {
                "type": "message",
                "user": "U0001",
                "text": "First draft.",
                "ts": ts,
            },
        },
    )
    [saved] = await reflections(app)
    assert saved.text == "Second draft."
    assert saved.edited_at == DUE + timedelta(minutes=5)


async def test_delete_in_slack_removes_the_reflection(app: RunningApp, clock: ManualClock) -> None:
    ts = ts_at(DUE)
    await say(app, dm("Delete me.", ts))
    await say(app, delete_event(ts))
    assert await reflections(app) == []


async def test_an_edit_or_delete_by_someone_else_changes_nothing(
    app: RunningApp, clock: ManualClock
) -> None:
    ts = ts_at(DUE)
    await say(app, dm("Only mine to change.", ts))
    await say(app, edit_event(ts, "Rewritten by someone else.", user="U0002"))
    await say(app, delete_event(ts, user="U0002"))
    await say(app, delete_event(ts, user=None))  # no author: nobody to act for
    [saved] = await reflections(app)
    assert (saved.text, saved.edited_at) == ("Only mine to change.", None)


async def test_a_thread_reply_by_someone_else_does_not_answer_their_nudge(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    app.sim.add_user("T0001", "U0002")
    reply = dm("Not my nudge.", ts_at(DUE + timedelta(hours=1)), user="U0002")
    await say(app, {**reply, "thread_ts": nudge.message_ts})
    [saved] = await reflections(app)
    assert (saved.user_id, saved.delivery_id, saved.source) == ("U0002", None, "free")
    async with app.ctx.sessions() as session:
        delivery = await session.get(Delivery, nudge.id)
        schedule = await session.scalar(select(Schedule))
    assert delivery is not None
    assert (delivery.reflected_at, delivery.responded_at) == (None, None)
    assert schedule is not None and schedule.user_id == "U0001"


@pytest.mark.parametrize(
    "event",
    [
        dm("from a bot", "1.000001", bot_id="B123"),
        dm("joined", "1.000002", subtype="channel_join"),
        dm("in a channel", "1.000003", channel="C0001", channel_type="channel"),
        dm("from the app", "1.000004", user="UBOT0001", bot_id="BT0001"),
        {
            "type": "message",
            "subtype": "bot_message",
            "channel": CHANNEL,
            "channel_type": "im",
            "bot_id": "B1",
            "text": "hello",
            "ts": "1.000005",
        },
    ],
    ids=["bot", "subtype", "channel", "self", "bot_message"],
)
async def test_messages_not_written_by_the_person_in_their_dm_are_ignored(
    app: RunningApp, event: dict
) -> None:
    await say(app, event)
    assert await reflections(app) == []
    assert app.sim.calls_to("reactions.add") == []


@pytest.mark.parametrize("word", ["help", "stop", "Pause"])
async def test_command_words_typed_in_the_dm_act_as_the_command(app: RunningApp, word: str) -> None:
    await subscribe(app)
    await say(app, dm(word, ts_at(DUE)))
    assert await reflections(app) == []
    [reply] = app.sim.calls_to("chat.postMessage")
    assert reply.body["channel"] == CHANNEL
    expected = {"help": "/leading-tip tip", "stop": "Stopped", "pause": "Paused"}[word.lower()]
    assert expected in blocks_text(reply.body["blocks"])


@pytest.mark.parametrize(
    "text",
    [
        "x" * MAX_REFLECTION_CHARS,
        "Kia ora 🌿 tēnā koe, mahi [work] went well 🙌",
        "Ārahi tāngata hauora",
    ],
    ids=["longest-kept", "emoji", "macrons"],
)
async def test_long_text_emoji_and_macrons_are_stored_intact(
    app: RunningApp, clock: ManualClock, text: str
) -> None:
    await say(app, dm(text, ts_at(DUE)))
    [saved] = await reflections(app)
    assert saved.text == text


# --- the Reflect button and its modal ----------------------------------------------------


async def test_reflect_button_opens_a_modal_with_the_question(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    view = await open_reflect_modal(app, nudge)
    question = app.ctx.library.question(nudge.question_id or "")
    assert question.text in blocks_text(view["blocks"])
    assert view["type"] == "modal" and view["private_metadata"] == str(nudge.id)
    saved = await submit_modal(app, view, "Tried it at the DHB forum.")
    assert saved == {}  # the modal closes
    [reflection] = await reflections(app)
    assert (reflection.source, reflection.delivery_id, reflection.text) == (
        "modal",
        nudge.id,
        "Tried it at the DHB forum.",
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [("   ", "Write a sentence or two first"), ("y" * 3001, "more than 3,000 characters")],
    ids=["empty", "too-long"],
)
async def test_modal_refuses_empty_or_oversized_text_inline_and_saves_nothing(
    app: RunningApp, clock: ManualClock, text: str, problem: str
) -> None:
    nudge = await send_nudge(app, clock)
    view = await open_reflect_modal(app, nudge)
    answer = await submit_modal(app, view, text)
    assert answer["response_action"] == "errors"
    assert problem in answer["errors"]["reflection"]
    assert await reflections(app) == []


async def test_reflect_button_on_someone_elses_nudge_shows_no_question_of_theirs(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    app.sim.add_user("T0001", "U0002")
    app.sim.clear()
    await app.slack.click("nudge_reflect", str(nudge.id), user_id="U0002")
    await app.settle()
    [opened] = app.sim.calls_to("views.open")
    question = app.ctx.library.question(nudge.question_id or "")
    assert question.text not in blocks_text(opened.body["view"])


# --- journal, export, forget, retention --------------------------------------------------


async def journal_text(app: RunningApp, *, team_id: str = "T0001", user_id: str = "U0001") -> str:
    reply = await app.slack.slash("journal", team_id=team_id, user_id=user_id)
    return blocks_text(reply.json()["blocks"])


async def test_journal_shows_only_your_own_newest_first_with_dates_and_items(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    await say(
        app, dm("Mine, in the thread.", ts_at(DUE + timedelta(hours=1)), thread_ts=nudge.message_ts)
    )
    await say(app, dm("Mine, later.", ts_at(DUE + timedelta(days=8))))
    await say(app, dm("Someone else's.", ts_at(DUE), user="U0002", channel="DU0002"))
    await say(app, {**dm("Another workspace.", ts_at(DUE)), "team": "T0002"})
    text = await journal_text(app)
    assert text.index("Mine, later.") < text.index("Mine, in the thread.")
    assert "Someone else" not in text and "Another workspace" not in text
    assert "30 November 2026, 10:00 am" in text  # their own time zone
    assert app.ctx.library.item(nudge.item_id or "").text in text
    other = await journal_text(app, user_id="U0002")
    assert "Someone else's." in other and "Mine" not in other


async def test_journal_pages_ten_at_a_time_with_an_older_button(
    app: RunningApp, clock: ManualClock
) -> None:
    for i in range(12):
        await say(app, dm(f"Entry number {i:02d}", ts_at(DUE + timedelta(hours=i))))
    reply = (await app.slack.slash("journal")).json()
    first_page = blocks_text(reply["blocks"])
    assert "Entry number 11" in first_page and "Entry number 02" in first_page
    assert "Entry number 01" not in first_page
    app.sim.clear()
    await app.slack.click("journal_older", "10")
    await app.settle()
    [older] = app.sim.calls_to("response_url")
    assert older.body["replace_original"] is True
    assert "Entry number 01" in blocks_text(older.body["blocks"])
    assert "Older" not in blocks_text(older.body["blocks"])


async def test_export_uploads_a_markdown_file_of_everything_into_the_dm(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    await say(
        app,
        dm(
            "Exported thought with ā and 🌿.",
            ts_at(DUE + timedelta(hours=1)),
            thread_ts=nudge.message_ts,
        ),
    )
    app.sim.clear()
    await app.slack.slash("export")
    await app.settle()
    [done] = app.sim.calls_to("response_url")
    assert "in our DM as a file" in done.body["text"]
    [complete] = app.sim.calls_to("files.completeUploadExternal")
    assert complete.body["channel_id"] == CHANNEL
    [content] = [c.decode() for c in app.sim.uploaded_files.values()]
    assert "Exported thought with ā and 🌿." in content
    assert app.ctx.library.item(nudge.item_id or "").text in content
    assert app.ctx.library.question(nudge.question_id or "").text in content


async def test_export_with_an_empty_journal_answers_plainly_and_uploads_nothing(
    app: RunningApp,
) -> None:
    await app.slack.slash("export")
    await app.settle()
    [done] = app.sim.calls_to("response_url")
    assert "nothing to export" in done.body["text"]
    assert app.sim.calls_to("files.getUploadURLExternal") == []


async def counts_for(app: RunningApp, user_id: str = "U0001") -> list[int]:
    async with app.ctx.sessions() as session:
        return [
            int(
                await session.scalar(
                    select(func.count()).select_from(model).where(model.user_id == user_id)
                )
                or 0
            )
            for model in (Reflection, Delivery, Schedule, SeenItem, Member)
        ]


async def test_forget_asks_first_and_cancel_deletes_nothing(
    app: RunningApp, clock: ManualClock
) -> None:
    await send_nudge(app, clock)
    await say(app, dm("Keep me.", ts_at(DUE + timedelta(hours=1))))
    before = await counts_for(app)
    reply = (await app.slack.slash("forget")).json()
    [delete] = [e for e in elements(reply["blocks"]) if e["action_id"] == "forget_confirm"]
    assert delete["text"]["text"] == "Delete everything" and delete["style"] == "danger"
    app.sim.clear()
    await app.slack.click("forget_cancel", "cancel")
    await app.settle()
    [cancelled] = app.sim.calls_to("response_url")
    assert "Nothing was deleted" in cancelled.body["text"]
    assert await counts_for(app) == before


async def test_forget_confirmed_deletes_everything_about_the_person_and_says_what(
    app: RunningApp, clock: ManualClock
) -> None:
    app.sim.add_user("T0001", "U0002")
    await send_nudge(app, clock)
    await say(app, dm("One.", ts_at(DUE + timedelta(hours=1))))
    await say(app, dm("Someone else.", ts_at(DUE), user="U0002", channel="DU0002"))
    app.sim.clear()
    await app.slack.click("forget_confirm", "confirm")
    await app.settle()
    [done] = app.sim.calls_to("response_url")
    assert "Deleted 1 reflection, 1 nudge record, 1 weekly schedule" in done.body["text"]
    assert await counts_for(app) == [0, 0, 0, 0, 0]
    assert (await counts_for(app, "U0002"))[0] == 1


async def test_retention_deletes_reflections_older_than_the_setting(
    app: RunningApp, clock: ManualClock
) -> None:
    await say(app, dm("Old.", ts_at(DUE - timedelta(days=40))))
    await say(app, dm("Recent.", ts_at(DUE - timedelta(days=5))))
    clock.set(DUE)
    assert await app.ctx.reflections.delete_older_than(30) == 1
    assert [r.text for r in await reflections(app)] == ["Recent."]


# --- privacy -----------------------------------------------------------------------------


async def test_reflection_text_never_reaches_the_logs(
    app: RunningApp, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "Confidential: the ward manager and I disagreed about staffing"
    caplog.set_level(logging.DEBUG)
    nudge = await send_nudge(app, clock)
    await say(app, dm(secret, ts_at(DUE + timedelta(hours=1)), thread_ts=nudge.message_ts))
    ts = ts_at(DUE + timedelta(hours=1))
    await say(app, edit_event(ts, secret + " (edited)"))
    view = await open_reflect_modal(app, nudge)
    await submit_modal(app, view, secret + " in the modal")
    await app.slack.slash("journal")
    await app.slack.slash("export")
    await app.settle()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "reflection from T0001/U0001: saved" in logged  # the capture did see our logs
    assert "Confidential" not in logged and "xoxb-" not in logged
    assert len(await reflections(app)) == 2


@pytest.mark.parametrize(
    "text", ["Stop and listen more.", "Pause before reacting", "help the new grad"]
)
async def test_sentences_starting_with_a_command_word_are_reflections(
    app: RunningApp, clock: ManualClock, text: str
) -> None:
    nudge = await send_nudge(app, clock)
    await say(app, dm(text, ts_at(DUE + timedelta(hours=1)), thread_ts=nudge.message_ts))
    await say(app, dm(text, ts_at(DUE + timedelta(hours=2))))
    assert [r.text for r in await reflections(app)] == [text, text]
    async with app.ctx.sessions() as session:
        schedule = await session.scalar(select(Schedule))
    assert schedule is not None and schedule.status == "active"


async def test_a_command_word_in_a_nudge_thread_is_a_reflection(
    app: RunningApp, clock: ManualClock
) -> None:
    nudge = await send_nudge(app, clock)
    await say(app, dm("stop", ts_at(DUE + timedelta(hours=1)), thread_ts=nudge.message_ts))
    assert [r.text for r in await reflections(app)] == ["stop"]


async def test_slack_escaped_characters_are_stored_as_typed(app: RunningApp) -> None:
    await say(app, dm("Health &amp; social care &lt;3 partners &gt; silos", ts_at(DUE)))
    [saved] = await reflections(app)
    assert saved.text == "Health & social care <3 partners > silos"
