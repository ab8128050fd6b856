"""Multi-workspace mode: installing with "Add to Slack", tokens kept encrypted, the first
requests from a new workspace answered with that workspace's own token, every way an install
can go wrong answered with our own page, and the pages themselves."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from slack_sdk.oauth.sqlalchemy_utils import normalize_datetime_for_db
from sqlalchemy import delete, func, select, update

from bot.manifest import BOT_SCOPES
from bot.models import Workspace, slack_bots, slack_installations, slack_oauth_states
from devkit.driver import PageReply
from devkit.slack_sim.oauth import CLIENT_ID
from tests.conftest import RunningApp
from tests.faults import refuse_inserts, rename_table
from tests.helpers import dm, open_home, say, tracebacks, ts_at

INSTALL_TABLES = (slack_installations, slack_bots)


async def raw_rows(app: RunningApp) -> dict[str, list[dict]]:
    """The installation tables as the database holds them."""
    async with app.ctx.engine.connect() as connection:
        return {
            table.name: [dict(row) for row in (await connection.execute(select(table))).mappings()]
            for table in INSTALL_TABLES
        }


async def nothing_installed(app: RunningApp) -> bool:
    async with app.ctx.engine.connect() as connection:
        counts = [
            await connection.scalar(select(func.count()).select_from(table))
            for table in (*INSTALL_TABLES, Workspace.__table__)
        ]
    return counts == [0, 0, 0]


def tokens_used(app: RunningApp) -> set[str | None]:
    """The Authorization header of every Web API call the app made (not response URLs)."""
    return {call.headers.get("Authorization") for call in app.sim.calls if call.team_id}


# --- the round trip -----------------------------------------------------------------------------


async def test_an_install_round_trip_stores_the_token_encrypted_and_answers_with_it(
    multi_app: RunningApp,
) -> None:
    app = multi_app
    start = await app.slack.start_install()
    assert "Add to Slack" in start.page.body
    assert start.page.content_type.startswith("text/html")
    assert start.state and start.cookie
    code = app.sim.authorize_install("T0100", name="Te Whatu Ora Waitaha")
    page = await app.slack.finish_install(start, code)
    assert page.status == 200, page.body
    assert "Leading Health nudges is added to Te Whatu Ora Waitaha." in page.body
    # A second workspace, so each answer below shows which token it chose.
    assert (await app.slack.install("T0200", name="Hauora Tairāwhiti")).status == 200

    token = app.sim.token_of("T0100")
    rows = await raw_rows(app)
    assert [len(rows[table.name]) for table in INSTALL_TABLES] == [2, 2]
    for row in rows["slack_installations"] + rows["slack_bots"]:
        assert all(token not in str(value) for value in row.values())
    [stored] = [row["bot_token"] for row in rows["slack_bots"] if row["team_id"] == "T0100"]
    assert app.ctx.keyring.decrypt(stored) == token
    async with app.ctx.sessions() as session:
        workspace = await session.get(Workspace, "T0100")
    assert workspace is not None and workspace.active and workspace.name == "Te Whatu Ora Waitaha"

    # The first slash command, Home and a DM in the new workspace: each with its own token.
    app.sim.add_user("T0100", "U0001")
    reply = await app.slack.slash("tip", team_id="T0100")
    assert reply.status == 200 and reply.json().get("blocks"), reply.body
    app.sim.clear()
    await app.slack.slash("weekly", team_id="T0100")
    await app.settle()
    [looked_up] = app.sim.calls_to("users.info")
    assert looked_up.team_id == "T0100"
    [answer] = await app.sim.wait_for("response_url")
    assert "Monday" in answer.body["text"]
    app.sim.clear()
    await say(app, {"type": "app_home_opened", "user": "U0001", "tab": "home", "team": "T0100"})
    await say(app, {**dm("Kia ora", ts_at(datetime.now(UTC))), "team": "T0100"})
    assert {call.method for call in app.sim.calls} >= {"views.publish", "reactions.add"}
    assert tokens_used(app) == {f"Bearer {token}"}


async def test_single_workspace_mode_has_no_install_pages(app: RunningApp) -> None:
    for path in ("/slack/install", "/slack/oauth_redirect?code=x&state=y"):
        page = await app.slack.open_page(path)
        assert page.status == 404 and page.cookie is None
    # …and its token keeps answering, as before.
    assert len(await open_home(app)) > 0


# --- every way an install can go wrong ---------------------------------------------------------


async def forged_state(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    code = app.sim.authorize_install("T0100")
    return await app.slack.finish_install(replace(start, state="forged-by-someone"), code)


async def forged_state_and_cookie(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    code = app.sim.authorize_install("T0100")
    assert start.cookie
    name = start.cookie.split("=", 1)[0]
    forged = replace(start, state="forged", cookie=f"{name}=forged")
    return await app.slack.finish_install(forged, code)


async def reused_state(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    first = await app.slack.finish_install(start, app.sim.authorize_install("T0900"))
    assert first.status == 200
    app.sim.clear()
    async with app.ctx.engine.begin() as connection:  # only the second try is looked at
        for table in (*INSTALL_TABLES, Workspace.__table__):
            await connection.execute(delete(table))
    return await app.slack.finish_install(start, app.sim.authorize_install("T0100"))


async def expired_state(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    code = app.sim.authorize_install("T0100")
    past = normalize_datetime_for_db(datetime.now(UTC) - timedelta(seconds=1))
    async with app.ctx.engine.begin() as connection:
        changed = await connection.execute(
            update(slack_oauth_states)
            .where(slack_oauth_states.c.state == start.state)
            .values(expire_at=past)
        )
    assert changed.rowcount == 1
    return await app.slack.finish_install(start, code)


async def no_cookie(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    code = app.sim.authorize_install("T0100")
    return await app.slack.finish_install(replace(start, cookie=None), code)


async def another_browser(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    other = await app.slack.start_install()
    code = app.sim.authorize_install("T0100")
    return await app.slack.finish_install(replace(start, cookie=other.cookie), code)


async def cancelled_in_slack(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    return await app.slack.open_page(
        f"/slack/oauth_redirect?error=access_denied&state={start.state}", cookie=start.cookie
    )


async def no_code(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    return await app.slack.open_page(
        f"/slack/oauth_redirect?state={start.state}", cookie=start.cookie
    )


async def code_slack_refuses(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    return await app.slack.finish_install(start, "code-never-given")


async def slack_out_of_reach(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    code = app.sim.authorize_install("T0100")
    app.sim.fail("oauth.v2.access", drop=True, times=10)  # past slack_sdk's own retry
    return await app.slack.finish_install(start, code)


async def database_refuses_the_install(app: RunningApp) -> PageReply:
    start = await app.slack.start_install()
    code = app.sim.authorize_install("T0100")
    with refuse_inserts(app.ctx.settings.database_url, "slack_installations"):
        return await app.slack.finish_install(start, code)


@dataclass
class Failure:
    happen: Callable[[RunningApp], Awaitable[PageReply]]
    status: int
    says: str
    code_exchanged: bool = False  # whether the app got as far as asking Slack for a token


FAILURES = {
    "forged state": Failure(forged_state, 400, "started in a different browser"),
    "forged state and cookie": Failure(forged_state_and_cookie, 400, "expired or has already"),
    "reused state": Failure(reused_state, 400, "expired or has already been used"),
    "expired state": Failure(expired_state, 400, "expired or has already been used"),
    "no cookie": Failure(no_cookie, 400, "started in a different browser"),
    "another browser": Failure(another_browser, 400, "started in a different browser"),
    "cancelled in Slack": Failure(cancelled_in_slack, 200, "You cancelled in Slack"),
    "no code": Failure(no_code, 400, "didn’t send back what we need"),
    "code Slack refuses": Failure(code_slack_refuses, 400, "Slack didn’t accept", True),
    "Slack out of reach": Failure(slack_out_of_reach, 400, "Slack didn’t accept", True),
    "database refuses": Failure(database_refuses_the_install, 503, "couldn’t save", True),
}


@pytest.mark.parametrize("how", FAILURES)
async def test_an_install_that_cannot_finish_gets_our_page_and_stores_nothing(
    multi_app: RunningApp, logs: pytest.LogCaptureFixture, how: str
) -> None:
    app = multi_app
    failure = FAILURES[how]
    page = await failure.happen(app)
    assert page.status == failure.status
    assert page.content_type.startswith("text/html")
    assert "The app wasn’t added" in page.body and failure.says in page.body
    assert 'href="/slack/install"' in page.body  # start again
    assert "Traceback" not in page.body
    assert await nothing_installed(app)
    assert bool(app.sim.calls_to("oauth.v2.access")) == failure.code_exchanged
    assert tracebacks(logs) == []
    assert any(
        record.getMessage().startswith("an install did not finish: ") for record in logs.records
    )


async def test_the_install_page_with_the_database_down_says_try_again(
    multi_app: RunningApp, logs: pytest.LogCaptureFixture
) -> None:
    app = multi_app
    with rename_table(app.ctx.settings.database_url, "slack_oauth_states"):
        page = await app.slack.open_page("/slack/install")
    assert page.status == 503 and page.cookie is None
    assert page.content_type.startswith("text/html")
    assert "We can’t start an install just now." in page.body and "Add to Slack" not in page.body
    assert tracebacks(logs) == []
    assert any(r.getMessage().startswith("starting an install failed: ") for r in logs.records)
    assert (await app.slack.start_install()).page.status == 200  # and once it is back


async def test_an_install_after_a_database_failure_goes_through(multi_app: RunningApp) -> None:
    app = multi_app
    assert (await database_refuses_the_install(app)).status == 503
    page = await app.slack.install("T0100", name="Te Tai Tokerau")
    assert page.status == 200 and "is added to Te Tai Tokerau" in page.body
    assert await app.ctx.installations.token_for("T0100") == app.sim.token_of("T0100")


# --- the pages, as plain HTML with nothing from elsewhere ---------------------------------------

ALLOWED_LINKS = ("https://slack.com/oauth/v2/authorize?", "https://slack.com/app_redirect?")


def check_page(page: PageReply) -> None:
    body = page.body
    assert page.content_type == "text/html; charset=utf-8"
    assert body.startswith("<!doctype html>")
    assert '<html lang="en-NZ">' in body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert re.search(r"<title>[^<]+</title>", body)
    for tag in ("<script", "<img", "<link", "<iframe", "@import", "url("):
        assert tag not in body.lower(), tag
    for link in re.findall(r'(?:src|href)="([^"]*)"', body):
        assert link.startswith("/") or link.replace("&amp;", "&").startswith(ALLOWED_LINKS), link
    words = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", body))
    assert "Traceback" not in words and "None" not in words.split()


async def test_the_install_success_and_failure_pages_are_plain_html_from_here(
    multi_app: RunningApp,
) -> None:
    app = multi_app
    start = await app.slack.start_install()
    check_page(start.page)
    assert 'href="https://slack.com/oauth/v2/authorize?' in start.page.body
    assert "What it stores" in start.page.body and "encrypted" in start.page.body
    asked = parse_qs(urlsplit(start.authorize_url).query)
    assert asked["client_id"] == [CLIENT_ID] and asked["state"] == [start.state]
    assert asked["scope"] == [",".join(BOT_SCOPES)]
    success = await app.slack.finish_install(start, app.sim.authorize_install("T0100"))
    check_page(success)
    assert '<span lang="mi">Ka pai</span>' in success.body
    assert "https://slack.com/app_redirect?app=" in success.body
    failure = await app.slack.open_page("/slack/oauth_redirect?error=access_denied&state=x")
    check_page(failure)
