"""An organisation's own content (CONTENT_DIR), checked at start-up, and several capabilities."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot import blocks
from bot.app_context import build_context
from bot.clock import ManualClock
from bot.config import ConfigError, Settings, load_settings
from bot.content import default_content_dir, load_library, validate
from bot.models import CohortPracticePost, Member, SeenItem
from devkit.slack_sim import (
    DEFAULT_BOT_USER_ID,
    SlackSimulator,
    block_action_body,
    signed_headers,
    slash_command_body,
)
from scheduler.runner import post_cohort_practice
from tests.conftest import RunningApp, running
from tests.helpers import (
    DUE,
    blocks_text,
    command_message,
    command_reply,
    deliveries,
    dispatch_at,
    dm,
    elements,
    free_port,
    message_text,
    nudges,
    open_home,
    process_env,
    run_cli,
    say,
    start_serve,
    subscribe,
    text_of,
    ts_at,
    wait_until_healthy,
)

SHIPPED = "enhancing-social-system-and-sector-performance"
OWN = "listening-well"

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> dict[str, str]:
    """The README's "Write your own pack" files: each ```yaml block opens with `# <path>`."""
    text = README.read_text("utf-8")
    section = text.split("## Write your own pack\n", 1)[1].split("\n## ", 1)[0]
    files = {}
    for block in re.findall(r"```yaml\n(.*?)```", section, flags=re.S):
        first, _, rest = block.partition("\n")
        files[first.removeprefix("# ").strip()] = rest
    return files


def write_folder(target: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
    return target


@pytest.fixture
def own_pack(tmp_path: Path) -> Path:
    """An organisation's folder holding only the README's example."""
    return write_folder(tmp_path / "own", readme_example())


@pytest.fixture
def two_capabilities(tmp_path: Path) -> Path:
    """The shipped pack plus the README's example capability, as one CONTENT_DIR."""
    target = tmp_path / "two"
    shutil.copytree(
        default_content_dir(), target, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    pack = readme_example()["packs/listening-well.yaml"]
    (target / "packs" / "listening-well.yaml").write_text(pack, encoding="utf-8")
    return target


@pytest.fixture
def broken(own_pack: Path) -> Path:
    pack = own_pack / "packs" / "listening-well.yaml"
    text = pack.read_text("utf-8")
    text = text.replace('title: "Listening well"', 'title: ""')
    text = text.replace("for: tip-ask-then-wait", "for: tip-ask-and-wait")
    pack.write_text(text, encoding="utf-8")
    return own_pack


def line_in(path: Path, starting: str) -> int:
    lines = path.read_text("utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.strip().startswith(starting))


# --- the README's example and `content validate` ------------------------------------------


def test_the_readme_example_is_a_valid_pack(own_pack: Path) -> None:
    assert sorted(readme_example()) == ["framework.yaml", "packs/listening-well.yaml"]
    assert validate(own_pack) == []
    library = load_library(own_pack)
    assert [c.title for c in library.capabilities] == ["Listening well"]
    assert [i.kind for i in library.items()] == ["tip", "practice", "blocker"]


def test_content_validate_names_the_capabilities_of_a_folder(two_capabilities: Path) -> None:
    result = run_cli("content", "validate", str(two_capabilities))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Content is valid. 2 capabilities: Enhancing social system and sector performance, "
        "Listening well.\n"
    )


def test_content_validate_without_a_path_checks_content_dir(broken: Path) -> None:
    result = run_cli("content", "validate", CONTENT_DIR=str(broken))
    assert result.returncode == 1
    assert "packs/listening-well.yaml:" in result.stdout
    assert result.stderr == "3 problems found.\n"


def test_content_validate_of_a_missing_path_says_so(tmp_path: Path) -> None:
    result = run_cli("content", "validate", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert result.stderr == f"{tmp_path / 'nowhere'}: no such file or folder\n"
    assert result.stdout == ""


def test_the_manifest_describes_the_content_dir(two_capabilities: Path, own_pack: Path) -> None:
    several = run_cli("manifest", CONTENT_DIR=str(two_capabilities))
    assert several.returncode == 0, several.stderr
    described = json.loads(several.stdout)["display_information"]["long_description"]
    assert described.startswith(
        "Leading Health nudges turns 2 leadership capabilities, each person choosing one to "
        "focus on, into weekly practice."
    )
    one = json.loads(run_cli("manifest", CONTENT_DIR=str(own_pack)).stdout)
    assert "“Listening well”" in one["display_information"]["long_description"]


# --- CONTENT_DIR at start-up ----------------------------------------------------------------


def test_content_dir_that_is_not_a_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(content_dir=str(tmp_path / "nowhere"))
    message = str(raised.value)
    assert message.startswith("Configuration error: CONTENT_DIR: ")
    assert "is not a folder" in message and "\n" not in message


def test_blank_content_dir_is_the_shipped_pack() -> None:
    assert load_settings(content_dir="  ").content_dir is None


@pytest.mark.parametrize("command", [["serve"], ["scheduler"], ["dispatch"]])
def test_a_broken_content_dir_stops_start_up_with_every_problem(
    command: list[str], broken: Path, tmp_path: Path
) -> None:
    pack = broken / "packs" / "listening-well.yaml"
    result = run_cli(*command, CONTENT_DIR=str(broken), DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    first, *rest = result.stderr.splitlines()
    assert first == (
        f"Content error: CONTENT_DIR {broken} has 3 problems; nothing was started. "
        f"Fix them (check with `leading-bot content validate {broken}`), then start again:"
    )
    assert rest == [
        f"  packs/listening-well.yaml:{line_in(pack, 'title:')}: title: must not be empty",
        f"  packs/listening-well.yaml:{line_in(pack, '- id: tip-ask-then-wait')}: tips[0]: "
        "no question is for 'tip-ask-then-wait'",
        f"  packs/listening-well.yaml:{line_in(pack, 'for: tip-ask-and-wait')}: "
        "questions[0].for: 'tip-ask-and-wait' names no tip, practice idea or blocker in this file",
    ]
    assert not (tmp_path / "x.db").exists()  # refused before the database was touched


def test_doctor_names_the_content_and_a_broken_content_dir(
    two_capabilities: Path, broken: Path, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path}/doctor.db"
    good = run_cli("doctor", CONTENT_DIR=str(two_capabilities), DATABASE_URL=database)
    assert f"✔ Content: 2 capabilities from CONTENT_DIR {two_capabilities}" in good.stdout
    bad = run_cli("doctor", CONTENT_DIR=str(broken), DATABASE_URL=database)
    assert bad.returncode == 1
    assert (
        f"✘ Content: CONTENT_DIR {broken} has 3 problems, so nothing will start; "
        f"`leading-bot content validate {broken}` lists them"
    ) in bad.stdout.splitlines()


async def test_serve_answers_from_the_content_dir(
    database_url: str, sim: SlackSimulator, own_pack: Path
) -> None:
    port = free_port()
    env = process_env(
        database_url,
        sim,
        SLACK_SIGNING_SECRET="serve-secret",
        PORT=str(port),
        CONTENT_DIR=str(own_pack),
    )
    process = await start_serve(env)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            await wait_until_healthy(http, base)
            body = slash_command_body("tip", response_url=sim.response_url("serve"))
            headers = signed_headers("serve-secret", body)
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as response:
                assert response.status == 200
                reply = await response.json()
            assert "Ask one open question, then wait." in blocks_text(reply["blocks"])
    finally:
        process.terminate()
        _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()


# --- several capabilities, each person with a focus -------------------------------------------


@pytest.fixture
async def two_app(
    settings: Settings, clock: ManualClock, sim: SlackSimulator, two_capabilities: Path
) -> AsyncIterator[RunningApp]:
    """The app with CONTENT_DIR holding two capabilities: the shipped one and the README's."""
    ctx = build_context(settings.model_copy(update={"content_dir": two_capabilities}), clock=clock)
    try:
        async with running(ctx, sim) as started:
            yield started
    finally:
        await ctx.close()


def item_capabilities(app: RunningApp, item_ids: list[str | None]) -> list[str]:
    return [app.ctx.library.item(item_id or "").capability_id for item_id in item_ids]


async def seen_rows(app: RunningApp, user_id: str = "U0001") -> list[tuple[str, str, int]]:
    async with app.ctx.sessions() as session:
        rows = await session.execute(
            select(SeenItem.kind, SeenItem.item_id, SeenItem.cycle)
            .where(SeenItem.user_id == user_id)
            .order_by(SeenItem.id)
        )
        return [(row.kind, row.item_id, row.cycle) for row in rows]


async def focus_of(app: RunningApp, user_id: str = "U0001") -> str | None:
    async with app.ctx.sessions() as session:
        return await session.scalar(select(Member.focus).where(Member.user_id == user_id))


async def test_with_one_capability_nothing_about_a_focus_is_shown(app: RunningApp) -> None:
    help_text = message_text(await command_message(app, "help"))
    assert "focus" not in help_text.lower()
    home = await open_home(app)
    assert "focus" not in blocks_text(home).lower()
    assert [e["type"] for e in elements(home)].count("static_select") == 0
    app.sim.add_user("T0001", "UADMIN", is_admin=True)
    assert "By capability" not in message_text(await command_message(app, "stats", "UADMIN"))
    # Typed anyway, the word names the one capability and changes nothing.
    text = message_text(await command_message(app, "focus listening"))
    assert "There is one capability to practise here: *Enhancing social system and sector" in text
    assert await focus_of(app) is None


async def test_focus_lists_the_capabilities_with_yours_marked(two_app: RunningApp) -> None:
    text = message_text(await command_message(two_app, "focus"))
    assert "Your focus is *Enhancing social system and sector performance*." in text
    assert f"`/leading-tip focus {OWN}`" in text and f"`/leading-tip focus {SHIPPED}`" in text
    assert "Enhancing social system and sector performance* (Leading health)" in text
    assert text.count("← your focus") == 1
    assert "`/leading-tip focus`" in message_text(await command_message(two_app, "help"))


async def test_tips_come_from_the_focus_with_no_repeat_until_its_tips_are_all_seen(
    two_app: RunningApp,
) -> None:
    # No focus chosen: the first capability of the content.
    first = [await command_reply(two_app, "tip") for _ in range(5)]
    shipped_tips = {f"Quick tip: {i.text}" for i in two_app.ctx.library.items("tip", SHIPPED)}
    assert set(first) == shipped_tips
    assert "Your focus is now *Listening well*." in message_text(
        await command_message(two_app, "focus listening")
    )
    assert await focus_of(two_app) == OWN
    # Listening well has one tip: each ask is a new round of it, never a shipped tip.
    assert [await command_reply(two_app, "tip") for _ in range(2)] == [
        "Quick tip: Ask one open question, then wait."
    ] * 2
    # Back on the shipped capability, its own round carries on where it was: a new round of 5.
    await command_message(two_app, f"focus {SHIPPED}")
    again = [await command_reply(two_app, "tip") for _ in range(5)]
    assert set(again) == shipped_tips
    cycles = Counter((item_id, cycle) for _kind, item_id, cycle in await seen_rows(two_app))
    assert cycles[("tip-ask-then-wait", 1)] == cycles[("tip-ask-then-wait", 2)] == 1
    assert sum(1 for (item, cycle) in cycles if cycle == 2 and item != "tip-ask-then-wait") == 5


async def test_no_word_and_reflect_take_turns_within_the_focus(two_app: RunningApp) -> None:
    await command_message(two_app, "focus Listening Well")
    texts = [await command_reply(two_app, "") for _ in range(3)]
    assert texts == [
        "Quick tip: Ask one open question, then wait.",
        "Practice this behaviour: Play back what you heard before you answer.",
        "What can hold you back: Rushing to fix the problem.",
    ]
    question = await command_reply(two_app, "reflect")
    own_questions = {q.text for q in two_app.ctx.library.questions(OWN)}
    assert question.removeprefix("Reflect: ") in own_questions


@pytest.mark.parametrize("words", ["focus nothing-like-it", "focus in", "focus l w x"])
async def test_a_focus_that_names_no_one_capability_changes_nothing(
    two_app: RunningApp, words: str
) -> None:
    text = message_text(await command_message(two_app, words))
    assert text.startswith("I couldn't find one capability called “")
    assert "`/leading-tip focus`" in text
    assert await focus_of(two_app) is None


async def test_the_weekly_nudge_comes_from_the_persons_focus(
    two_app: RunningApp, clock: ManualClock
) -> None:
    await command_message(two_app, "focus listening")
    await subscribe(two_app)
    for week in range(3):
        await dispatch_at(two_app, clock, DUE + timedelta(weeks=week))
        [delivery] = (await deliveries(two_app))[-1:]
        await two_app.slack.click("nudge_skip", str(delivery.id))
        await two_app.sim.wait_for("response_url", count=week + 2)
    sent = await deliveries(two_app)
    assert [d.item_kind for d in sent] == ["tip", "practice", "blocker"]
    assert item_capabilities(two_app, [d.item_id for d in sent]) == [OWN] * 3
    assert {two_app.ctx.library.question(d.question_id or "").capability_id for d in sent} == {OWN}
    first = text_of(nudges(two_app.sim)[0])
    assert "Listening well" in first and "Ask one open question, then wait." in first


async def test_a_reflected_nudge_is_followed_up_in_the_next_from_the_same_focus(
    two_app: RunningApp, clock: ManualClock
) -> None:
    await command_message(two_app, "focus listening")
    await subscribe(two_app)
    await dispatch_at(two_app, clock, DUE)
    [first] = await deliveries(two_app)
    assert first.message_ts
    ts = ts_at(DUE + timedelta(minutes=5))
    await say(two_app, dm("A thought.", ts, channel=first.channel_id, thread_ts=first.message_ts))
    await dispatch_at(two_app, clock, DUE + timedelta(weeks=1))
    [_, second] = await deliveries(two_app)
    assert second.follow_up_item_id == first.item_id == "tip-ask-then-wait"
    assert item_capabilities(two_app, [second.item_id]) == [OWN]
    assert "Last time you reflected on “Ask one open question, then wait.”" in text_of(
        nudges(two_app.sim)[-1]
    )


async def test_a_nudge_from_the_focus_also_looks_back_at_an_earlier_reflection(
    two_app: RunningApp, clock: ManualClock
) -> None:
    await command_message(two_app, "focus listening")
    await subscribe(two_app)
    for week in range(5):
        await dispatch_at(two_app, clock, DUE + timedelta(weeks=week))
        delivery = (await deliveries(two_app))[-1]
        assert delivery.status == "sent" and delivery.message_ts
        ts = ts_at(DUE + timedelta(weeks=week, hours=2))
        words = f"Week {week}: I waited after asking."
        await say(two_app, dm(words, ts, thread_ts=delivery.message_ts))
    sent = await deliveries(two_app)
    assert item_capabilities(two_app, [d.item_id for d in sent]) == [OWN] * 5
    assert [d.resurfaced_reflection_id is not None for d in sent] == [False] * 4 + [True]
    fifth = text_of(nudges(two_app.sim)[-1])
    assert "Four weeks ago you wrote:\n> Week 0: I waited after asking." in fifth


async def test_a_cohorts_focus_is_its_members_unless_they_chose_their_own(
    two_app: RunningApp, clock: ManualClock
) -> None:
    sim = two_app.sim
    sim.add_user("T0001", "ULEAD", is_admin=True)
    for user in ("UAROHA", "UBEN"):
        sim.add_user("T0001", user)
    sim.set_channel_members("T0001", "C0TEAM", [DEFAULT_BOT_USER_ID, "ULEAD", "UAROHA", "UBEN"])
    await command_message(two_app, "cohort", "ULEAD", channel_id="C0TEAM")
    await two_app.settle()
    intros = [text_of(call.body) for call in sim.calls_to("chat.postMessage")]
    assert len(intros) == 3
    assert all("<#C0TEAM> is practising together, from" in intro for intro in intros)
    refused = message_text(
        await command_message(two_app, "cohort focus listening", "UAROHA", channel_id="C0TEAM")
    )
    assert "Listening well" not in refused
    reply = message_text(
        await command_message(two_app, "cohort focus listening", "ULEAD", channel_id="C0TEAM")
    )
    assert (
        "This cohort now practises *Listening well*. Its weekly nudges come from it, except "
        "for anyone who has chosen their own focus."
    ) in reply
    await command_message(two_app, f"focus {SHIPPED}", "UBEN")
    assert "Your focus is *Listening well*." in message_text(
        await command_message(two_app, "focus", "UAROHA")
    )
    await dispatch_at(two_app, clock, DUE)
    by_person = {d.user_id: d.item_id for d in await deliveries(two_app)}
    assert sorted(by_person) == ["UAROHA", "UBEN", "ULEAD"]
    assert item_capabilities(two_app, [by_person["UAROHA"], by_person["ULEAD"]]) == [OWN, OWN]
    assert item_capabilities(two_app, [by_person["UBEN"]]) == [SHIPPED]


async def test_a_cohorts_practice_posts_come_from_its_focus(
    two_app: RunningApp, clock: ManualClock
) -> None:
    sim = two_app.sim
    sim.add_user("T0001", "ULEAD", tz="Australia/Sydney", is_admin=True)
    sim.set_channel_members("T0001", "C0TEAM", [DEFAULT_BOT_USER_ID, "ULEAD"])
    for words in ("cohort wed 9am", "cohort practice on"):
        await command_message(two_app, words, "ULEAD", channel_id="C0TEAM")
        await two_app.settle()
    sydney_9am = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)  # Wednesday 25 November, AEDT
    clock.set(sydney_9am)
    await post_cohort_practice(two_app.ctx)  # no focus chosen: the first capability's ideas
    await command_message(two_app, "cohort focus listening", "ULEAD", channel_id="C0TEAM")
    clock.set(sydney_9am + timedelta(days=7))
    await post_cohort_practice(two_app.ctx)
    async with two_app.ctx.sessions() as session:
        rows = await session.scalars(select(CohortPracticePost).order_by(CohortPracticePost.id))
        posted = [(row.status, row.item_id) for row in rows]
    assert [status for status, _ in posted] == ["posted", "posted"]
    assert item_capabilities(two_app, [item for _, item in posted]) == [SHIPPED, OWN]
    assert posted[1][1] == "practice-play-it-back"
    channel_posts = [
        call for call in sim.calls_to("chat.postMessage") if call.body.get("channel") == "C0TEAM"
    ]
    assert "Play back what you heard" in blocks_text(channel_posts[-1].body["blocks"])


async def test_cohort_focus_without_a_known_name_is_corrected(two_app: RunningApp) -> None:
    two_app.sim.add_user("T0001", "ULEAD", is_admin=True)
    two_app.sim.set_channel_members("T0001", "C0TEAM", [DEFAULT_BOT_USER_ID, "ULEAD"])
    await command_message(two_app, "cohort", "ULEAD", channel_id="C0TEAM")
    await two_app.settle()
    bare = message_text(
        await command_message(two_app, "cohort focus", "ULEAD", channel_id="C0TEAM")
    )
    assert "Name a capability after `focus`" in bare
    unknown = message_text(
        await command_message(two_app, "cohort focus knitting", "ULEAD", channel_id="C0TEAM")
    )
    assert unknown.startswith("I couldn't find one capability called “knitting”")


async def choose_on_home(app: RunningApp, value: str) -> None:
    """A choice in the Home tab's focus menu, as Slack sends it."""
    body = block_action_body(
        blocks.HOME_FOCUS_ACTION,
        value,
        action_type="static_select",
        view={"id": "V0001", "type": "home"},
    )
    assert (await app.slack.post(body)).status == 200
    await app.settle()


async def test_home_shows_the_focus_its_progress_and_a_menu_to_change_it(
    two_app: RunningApp,
) -> None:
    await command_reply(two_app, "tip")
    home = await open_home(two_app)
    [welcome] = two_app.sim.calls_to("chat.postMessage")
    assert "I help you practise leadership capabilities, one at a time, from" in text_of(
        welcome.body
    )
    [menu] = [e for e in elements(home) if e["type"] == "static_select"]
    assert menu["initial_option"]["value"] == SHIPPED
    assert [o["value"] for o in menu["options"]] == [SHIPPED, OWN]
    assert "Quick tips: 1 of 5 seen" in blocks_text(home)
    assert "`forget` `focus` `help`" in blocks_text(home)  # the Commands line names it
    two_app.sim.clear()
    await choose_on_home(two_app, OWN)
    await two_app.settle()
    assert await focus_of(two_app) == OWN
    [published] = two_app.sim.calls_to("views.publish")
    shown = blocks_text(published.body["view"]["blocks"])
    assert "Listening well" in shown and "Quick tips: 0 of 1 seen" in shown
    assert "*Show me my earlier reflections:* on" in shown  # the look-back switch stays
    [menu] = [e for e in elements(published.body["view"]["blocks"]) if e["type"] == "static_select"]
    assert menu["initial_option"]["value"] == OWN


async def test_a_home_menu_naming_no_capability_changes_nothing(two_app: RunningApp) -> None:
    two_app.sim.clear()
    await choose_on_home(two_app, "no-such-capability")
    await two_app.settle()
    assert await focus_of(two_app) is None
    [published] = two_app.sim.calls_to("views.publish")
    assert "Enhancing social system" in blocks_text(published.body["view"]["blocks"])


async def test_the_figures_count_each_capability_and_hide_a_small_one(
    two_app: RunningApp, clock: ManualClock
) -> None:
    sim = two_app.sim
    sim.add_user("T0001", "UADMIN", is_admin=True)
    listeners = [f"UP{i}" for i in range(1, 6)]
    for user in [*listeners, "UOUT"]:
        sim.add_user("T0001", user)
        if user != "UOUT":
            await command_message(two_app, "focus listening", user)
        await subscribe(two_app, "weekly", user_id=user)
    await dispatch_at(two_app, clock, DUE)
    for minutes, user in enumerate(["UP1", "UP2", "UOUT"], start=1):
        [nudge] = [d for d in await deliveries(two_app) if d.user_id == user]
        assert nudge.message_ts
        ts = ts_at(DUE + timedelta(minutes=minutes))
        thread = nudge.message_ts
        await say(
            two_app, dm("A thought.", ts, user=user, channel=nudge.channel_id, thread_ts=thread)
        )
    figures = message_text(await command_message(two_app, "stats", "UADMIN"))
    assert "*By capability*" in figures
    assert "• Listening well: 5 nudges sent, 2 reflections" in figures
    assert (
        "• Enhancing social system and sector performance: 1 nudge sent, "
        "reflections: too few to show"
    ) in figures
    assert "A thought" not in figures
