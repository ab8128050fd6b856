"""`/leading-tip preview`: one of every message the app sends, to the asker's own DM, each marked
as a preview and recorded nowhere; a reply in a preview's thread is never kept. Through signed
requests to the running app and the simulator, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.models import Base
from bot.services.dispatch import METADATA_EVENT
from bot.services.previews import PREVIEW_EVENT
from devkit.slack_sim import DEFAULT_BOT_USER_ID, RecordedCall, SlackSimulator
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    blocks_text,
    command_message,
    deliveries,
    dm,
    message_text,
    reflections,
    say,
    send_nudge,
    ts_at,
)

CHANNEL = "C0COHORT"
KINDS = (
    "the welcome",
    "the message each person gets on joining a cohort",
    "the weekly nudge.",
    "the weekly nudge after someone has reflected",
    "the weekly nudge that shows someone their own reflection",
    "the “how often?” question",
    "the practice posted in a cohort's channel",
    "the message when a cohort ends",
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """UHEAD is named in ADMIN_USER_IDS (and is no admin in Slack)."""
    return settings.model_copy(update={"admin_user_ids": "UHEAD"})


def dms_to(sim: SlackSimulator, user_id: str) -> list[RecordedCall]:
    return [
        call
        for call in sim.calls_to("chat.postMessage")
        if call.body.get("channel") == user_id and call.failed is None
    ]


def preview_of(sim: SlackSimulator, kind: str) -> str:
    """The ts of that preview in U0001's DM."""
    [ts] = [m["ts"] for m in sim.messages("DU0001") if m["text"].startswith(f"Preview ({kind}")]
    return str(ts)


async def row_counts(app: RunningApp) -> dict[str, int]:
    """How many rows every table holds: a preview must change none of them."""
    async with app.ctx.sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


async def preview(app: RunningApp, user_id: str, channel_id: str = "C0001") -> str:
    message = await command_message(app, "preview", user_id, channel_id=channel_id)
    await app.settle()
    return message_text(message)


async def test_preview_sends_each_message_once_to_the_askers_dm_and_stores_nothing(
    app: RunningApp,
) -> None:
    app.sim.add_user("T0001", "UHEAD", tz="Pacific/Auckland")
    before = await row_counts(app)

    reply = await preview(app, "UHEAD")

    assert "I've sent you 8 previews in our DM" in reply and "Nothing was recorded" in reply
    sent = dms_to(app.sim, "UHEAD")
    assert [call.body["channel"] for call in app.sim.calls_to("chat.postMessage")] == [
        "UHEAD"
    ] * len(KINDS)
    for call, kind in zip(sent, KINDS, strict=True):
        text = blocks_text(call.body["blocks"])
        assert call.body["text"].startswith("Preview (")
        assert f"Preview: {kind}" in text, kind
        assert "a reply to it isn't kept" in text
        # Its own metadata, never a delivery's: a reply can't be linked to a nudge by it.
        assert call.body["metadata"]["event_type"] == PREVIEW_EVENT != METADATA_EVENT
        assert "delivery_id" not in call.body["metadata"]["event_payload"]
        assert all(block["type"] != "actions" for block in call.body["blocks"])
    nudge_text = blocks_text(sent[2].body["blocks"])
    assert "Its buttons: Reflect · Snooze a week · Skip this one." in nudge_text
    assert "Last time you reflected on" in blocks_text(sent[3].body["blocks"])
    assert "Four weeks ago you wrote:\n> (An example:" in blocks_text(sent[4].body["blocks"])
    assert "#your-cohort" in blocks_text(sent[1].body["blocks"])  # no cohort yet
    assert "Next nudge:" in blocks_text(sent[1].body["blocks"])
    assert await row_counts(app) == before  # no delivery, seen item, member or anything else


async def test_a_cohort_lead_previews_with_their_cohorts_channel_and_time(app: RunningApp) -> None:
    app.sim.add_user("T0001", "ULEAD", tz="Pacific/Auckland", is_admin=True)
    app.sim.add_user("T0001", "UKAHU", tz="Pacific/Auckland")
    app.sim.set_channel_members("T0001", CHANNEL, [DEFAULT_BOT_USER_ID, "ULEAD"])
    await command_message(app, "cohort thu 7:30am", "ULEAD", channel_id=CHANNEL)
    await app.settle()
    await command_message(app, "cohort lead <@UKAHU>", "ULEAD", channel_id=CHANNEL)
    await app.settle()
    before = await row_counts(app)

    reply = await preview(app, "UKAHU")  # typed in another channel: their cohort is used

    assert "I've sent you 8 previews" in reply
    intro = blocks_text(dms_to(app.sim, "UKAHU")[1].body["blocks"])
    assert f"<#{CHANNEL}> is practising" in intro and "Every Thursday at 7:30 am" in intro
    assert await row_counts(app) == before


async def test_preview_is_refused_to_anyone_else_and_sends_nothing(app: RunningApp) -> None:
    app.sim.add_user("T0001", "UKIRI", tz="Pacific/Auckland")
    before = await row_counts(app)

    reply = await preview(app, "UKIRI")

    assert "Previews are for workspace admins and cohort leads, so nothing was sent" in reply
    assert app.sim.calls_to("chat.postMessage") == []
    assert await row_counts(app) == before


async def test_a_reply_in_a_previews_thread_is_not_kept(app: RunningApp, clock) -> None:
    nudge = await send_nudge(app, clock)  # U0001 has a real nudge too, a moment ago
    app.sim.add_user("T0001", "U0001", tz="Pacific/Auckland", is_admin=True)
    await preview(app, "U0001")
    preview_ts = preview_of(app.sim, "the weekly nudge)")
    app.sim.clear()

    await say(app, dm("Trying this today.", ts_at(DUE + timedelta(hours=1)), thread_ts=preview_ts))

    assert await reflections(app) == []
    [note] = app.sim.calls_to("chat.postMessage")
    assert note.body["thread_ts"] == preview_ts
    assert "That was a preview, so I haven't kept this reply" in note.body["text"]
    [delivery] = await deliveries(app)
    assert (
        delivery.id == nudge.id and delivery.reflected_at is None and delivery.responded_at is None
    )

    # A reply in the real nudge's thread is still kept, without asking Slack about it.
    app.sim.clear()
    await say(app, dm("Mine.", ts_at(DUE + timedelta(hours=2)), thread_ts=nudge.message_ts))
    assert [row.text for row in await reflections(app)] == ["Mine."]
    assert app.sim.calls_to("conversations.history") == []


async def test_a_thread_reply_is_kept_when_slack_cannot_say_whether_it_is_a_preview(
    app: RunningApp, clock
) -> None:
    app.sim.add_user("T0001", "U0001", tz="Pacific/Auckland", is_admin=True)
    await preview(app, "U0001")
    preview_ts = preview_of(app.sim, "the welcome")
    app.sim.fail("conversations.history", error="internal_error")

    await say(app, dm("Kept anyway.", ts_at(DUE), thread_ts=preview_ts))

    assert [row.text for row in await reflections(app)] == ["Kept anyway."]
