"""Many workspaces on one deployment: each request and each nudge speaks with its own
workspace's token (or its Enterprise Grid org's), and the same person id in two workspaces is
two people whose data never mix. Installs go through the real OAuth round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import blocks
from bot.models import Delivery, Member, Reflection, Schedule, SeenItem, Workspace
from devkit.slack_sim import SlackSimulator, view_submission_body
from tests.conftest import RunningApp
from tests.helpers import (
    DUE,
    blocks_text,
    command_message,
    command_reply,
    deliveries,
    dispatch_at,
    dm,
    edit_event,
    latest_home,
    message_text,
    nudges,
    open_home,
    open_reflect_modal,
    reflections,
    say,
    schedule_of,
    submit_modal,
    subscribe,
    tracebacks,
    ts_at,
)

A, B = "T0100", "T0200"  # two health organisations, each with its own workspace
PERSON = "U0001"  # the same user id in both


def speakers(sim: SlackSimulator) -> set[str | None]:
    """Whose token each Web API call since the last clear carried (None: a token Slack does
    not know). Response URLs and file bytes carry no token."""
    return {call.team_id for call in sim.calls if call.method not in ("response_url", "upload")}


async def rows_of(app: RunningApp, team_id: str) -> dict[str, int]:
    """How many rows each table holds for PERSON in one workspace."""
    counts = {}
    async with app.ctx.sessions() as session:
        for model in (Member, Schedule, Delivery, Reflection, SeenItem):
            counts[model.__tablename__] = int(
                await session.scalar(
                    select(func.count())
                    .select_from(model)
                    .where(model.team_id == team_id, model.user_id == PERSON)
                )
                or 0
            )
    return counts


async def test_the_same_person_in_two_workspaces_never_mixes_on_any_surface(
    multi_app: RunningApp, clock
) -> None:
    app, sim = multi_app, multi_app.sim
    for team, name in ((A, "Te Whatu Ora Waitaha"), (B, "Hauora Tairāwhiti")):
        page = await app.slack.install(team, name=name)
        assert page.status == 200, page.body
    assert sim.token_of(A) != sim.token_of(B)
    sim.add_user(A, PERSON, is_admin=True)  # an admin in A, not in B
    sim.add_user(B, PERSON)
    sim.add_user(B, "U0002")
    sim.add_user(B, "U0009", is_admin=True)

    # /leading-tip: each workspace has its own rotation.
    for team, asks in ((A, 3), (B, 1)):
        for _ in range(asks):
            sim.clear()
            assert (await command_message(app, "tip", team_id=team)).get("blocks")
            assert speakers(sim) <= {team}
    assert (await rows_of(app, A))["seen_items"] == 3
    assert (await rows_of(app, B))["seen_items"] == 1

    # weekly: two schedules; each nudge goes with its own workspace's token to its own DM.
    await subscribe(app, "weekly mon 9:00", team_id=A)
    assert speakers(sim) == {A}  # the person's time zone, read from A
    await subscribe(app, "weekly tue 9:00", team_id=B)
    await subscribe(app, "weekly tue 9:00", user_id="U0002", team_id=B)
    assert speakers(sim) == {B}
    assert (await schedule_of(app, team_id=A)).weekday == 0
    assert (await schedule_of(app, team_id=B)).weekday == 1

    sim.clear()
    assert (await dispatch_at(app, clock, DUE)).sent == 1
    assert speakers(sim) == {A}
    sim.clear()
    assert (await dispatch_at(app, clock, DUE + timedelta(days=1))).sent == 2
    assert speakers(sim) == {B}
    sent = await deliveries(app)
    nudge_a = next(d for d in sent if d.team_id == A)
    nudge_b = next(d for d in sent if d.team_id == B and d.user_id == PERSON)
    in_a = [m for m in sim.messages("DU0001", team_id=A) if m.get("metadata")]
    in_b = [m for m in sim.messages("DU0001", team_id=B) if m.get("metadata")]
    assert [m["ts"] for m in in_a] == [nudge_a.message_ts]
    assert [m["ts"] for m in in_b] == [nudge_b.message_ts]

    # DM replies, in the same channel id at the same instant in both workspaces.
    ts = ts_at(DUE + timedelta(days=1, hours=1))
    sim.clear()
    await say(app, dm("Tried it with the ward team.", ts, thread_ts=nudge_a.message_ts), team_id=A)
    assert speakers(sim) == {A}  # the saved reaction
    sim.clear()
    await say(app, dm("Asked the night shift.", ts, thread_ts=nudge_b.message_ts), team_id=B)
    assert speakers(sim) == {B}
    await say(app, edit_event(ts, "Tried it with the whole ward team."), team_id=A)
    stored = {(r.team_id, r.delivery_id): r.text for r in await reflections(app)}
    assert stored == {
        (A, nudge_a.id): "Tried it with the whole ward team.",
        (B, nudge_b.id): "Asked the night shift.",
    }

    # The Reflect modal: B's nudge in B; pressed in A with B's nudge id, nothing of B's shows.
    view = await open_reflect_modal(app, nudge_b)
    assert speakers(sim) == {B}
    await submit_modal(app, view, "Wrote it down after handover.", team_id=B)
    sim.clear()
    await app.slack.click(blocks.NUDGE_REFLECT_ACTION, str(nudge_b.id), team_id=A)
    await app.settle()
    [forged] = sim.calls_to("views.open")
    assert forged.team_id == A
    assert "What's on your mind from this week?" in blocks_text(forged.body["view"])
    assert "Wrote it down" not in blocks_text(forged.body["view"])

    # Journal: each workspace's own words.
    journal_a = message_text(await command_message(app, "journal", team_id=A))
    journal_b = message_text(await command_message(app, "journal", team_id=B))
    assert "whole ward team" in journal_a and "night shift" not in journal_a
    assert "night shift" in journal_b and "after handover" in journal_b
    assert "ward team" not in journal_b

    # Export: the file is made in A, with A's token, and holds only A's words.
    assert await command_reply(app, "export", team_id=A) == blocks.export_sent().text
    assert speakers(sim) == {A}
    [uploaded] = [sim.files[file_id] for file_id in sim.uploaded_files]
    assert uploaded["team_id"] == A
    exported = sim.uploaded_files[uploaded["id"]].decode()
    assert "whole ward team" in exported and "night shift" not in exported
    assert any(m.get("files") for m in sim.messages("DU0001", team_id=A))

    # Home: published with each workspace's token, showing only that workspace.
    home_a = blocks_text(await open_home(app, team_id=A))
    assert speakers(sim) == {A}
    home_b = blocks_text(await open_home(app, team_id=B))
    assert speakers(sim) == {B}
    assert "Monday" in home_a and "whole ward team" in home_a and "night shift" not in home_a
    assert "Tuesday" in home_b and "night shift" in home_b and "ward team" not in home_b

    # Stats: an admin in A is nobody special in B; each workspace's figures count only it.
    stats_a = message_text(await command_message(app, "stats", team_id=A))
    assert "Subscribers: *1* (0 paused)" in stats_a
    refused = await command_reply(app, "stats", team_id=B)
    assert refused == blocks.figures_refused().text
    stats_b = message_text(await command_message(app, "stats", user_id="U0009", team_id=B))
    assert "Subscribers: *2* (0 paused)" in stats_b

    # Forget, in A: everything of A's goes, nothing of B's.
    before_b = await rows_of(app, B)
    assert all(before_b.values())
    assert "Delete your data?" in message_text(await command_message(app, "forget", team_id=A))
    sim.clear()
    reply = await app.slack.click(blocks.FORGET_CONFIRM_ACTION, "confirm", team_id=A)
    assert reply.status == 200
    await app.settle()
    [done] = sim.calls_to("response_url")
    assert done.body["text"].startswith("Done. Deleted")
    assert speakers(sim) == {A}  # the emptied Home, shown again in A only
    assert "whole ward team" not in latest_home(app)
    assert not any((await rows_of(app, A)).values())
    assert await rows_of(app, B) == before_b
    assert "night shift" in message_text(await command_message(app, "journal", team_id=B))

    # Next week only B's people are nudged, still with B's token.
    sim.clear()
    assert (await dispatch_at(app, clock, DUE + timedelta(days=7))).sent == 0
    assert (await dispatch_at(app, clock, DUE + timedelta(days=8))).sent == 2
    assert speakers(sim) == {B}
    assert len(nudges(sim)) == 2


ORG, C, D = "E0001", "T0300", "T0400"  # an Enterprise Grid org and two of its workspaces
MEMBER = "W0001"  # Grid user ids are the org's: the same person in both workspaces


async def test_an_org_wide_install_serves_each_workspace_of_its_org_with_data_kept_apart(
    multi_app: RunningApp, clock
) -> None:
    app, sim = multi_app, multi_app.sim
    page = await app.slack.install(C, enterprise_id=ORG, org_wide=True, name="Te Whatu Ora")
    assert page.status == 200, page.body
    sim.join_org(D, ORG)
    sim.add_user(ORG, MEMBER)  # the org token's users: everyone in the org

    # The first thing anyone in D does is open Home: an event whose install names only the org.
    sim.clear()
    await say(app, {"type": "app_home_opened", "user": MEMBER, "tab": "home"}, team_id=D)
    assert [call.team_id for call in sim.calls_to("views.publish")] == [ORG]

    # A slash command in each workspace, answered with the org's token.
    for team, words in ((C, "weekly mon 9:00"), (D, "weekly tue 9:00")):
        await subscribe(app, words, user_id=MEMBER, team_id=team)
        assert speakers(sim) == {ORG}
        assert (await schedule_of(app, MEMBER, team_id=team)).user_id == MEMBER

    # A nudge in each, sent by the scheduler with the org's token.
    sim.clear()
    assert (await dispatch_at(app, clock, DUE)).sent == 1
    assert (await dispatch_at(app, clock, DUE + timedelta(days=1))).sent == 1
    assert speakers(sim) == {ORG}
    used = {call.headers.get("Authorization") for call in sim.calls}
    assert used == {f"Bearer {sim.token_of(ORG)}"}
    nudge_c, nudge_d = await deliveries(app)
    assert (nudge_c.team_id, nudge_d.team_id) == (C, D)

    # A reply in D, its Reflect button (no `team` in an org-wide payload) and its modal (the
    # org as the team it was installed in): all D's, none C's.
    ts = ts_at(DUE + timedelta(days=1, hours=1))
    reply = dm("Said no to a meeting.", ts, user=MEMBER, channel="DW0001")
    await say(app, {**reply, "thread_ts": nudge_d.message_ts}, team_id=D)
    view = await open_reflect_modal(app, nudge_d)
    assert speakers(sim) == {ORG}
    await submit_modal(app, view, "Kept Friday clear.", team_id=D, user_id=MEMBER)
    assert sorted((r.team_id, r.delivery_id) for r in await reflections(app)) == [
        (D, nudge_d.id),
        (D, nudge_d.id),
    ]
    journal_c = message_text(await command_message(app, "journal", MEMBER, team_id=C))
    assert "Said no" not in journal_c and "Friday" not in journal_c

    # Each workspace is recorded as the org's (the scheduler finds the org's token by it), and
    # the org itself is no workspace.
    async with app.ctx.sessions() as session:
        workspaces = {w.team_id: w.enterprise_id for w in await session.scalars(select(Workspace))}
    assert workspaces == {C: ORG, D: ORG}


async def test_a_workspace_without_an_install_gets_a_polite_answer_and_no_error(
    multi_app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    app, sim = multi_app, multi_app.sim
    await app.slack.install(A)
    stranger = "T0999"  # the app was never added here (or the install is gone)

    sim.clear()
    reply = await app.slack.slash("tip", team_id=stranger)
    assert (reply.status, reply.body) == (200, "")
    [told] = await sim.wait_for("response_url")
    assert told.body["text"] == blocks.NOT_INSTALLED

    sim.clear()
    reply = await app.slack.click(blocks.ANOTHER_ACTION, "tip", team_id=stranger)
    assert (reply.status, reply.body) == (200, "")
    [told] = await sim.wait_for("response_url")
    assert told.body["text"] == blocks.NOT_INSTALLED

    # Events and modal submissions have no response URL: they are acknowledged, and no
    # listener runs.
    sim.clear()
    await say(app, dm("Hello?", ts_at(DUE)), team_id=stranger)
    await say(app, {"type": "app_home_opened", "user": PERSON, "tab": "home"}, team_id=stranger)
    body = view_submission_body(
        blocks.REFLECTION_MODAL,
        {"reflection": {"reflection_text": {"type": "plain_text_input", "value": "Hi"}}},
        team_id=stranger,
    )
    submitted = await app.slack.post(body)
    assert submitted.status == 200
    await app.settle()
    assert sim.calls == []  # nothing sent anywhere, with anyone's token
    assert await reflections(app) == []
    assert not tracebacks(logs)
    assert all(
        record.levelname != "ERROR" or "AuthorizeResult" in record.getMessage()
        for record in logs.records
    )
