"""Multi-workspace mode: installing with "Add to Slack", tokens kept encrypted, and the first
request from a new workspace answered with that workspace's own token."""

from __future__ import annotations

from sqlalchemy import select, text

from bot.models import Workspace, slack_bots, slack_installations
from tests.conftest import RunningApp


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
    assert "is added to Te Whatu Ora Waitaha" in page.body

    token = app.sim.token_of("T0100")
    async with app.ctx.engine.connect() as connection:
        for table in (slack_installations, slack_bots):
            rows = (await connection.execute(select(table))).mappings().all()
            assert len(rows) == 1
            assert all(token not in str(value) for value in rows[0].values())
        dumped = (await connection.execute(text("SELECT bot_token FROM slack_bots"))).scalar()
    assert app.ctx.keyring.decrypt(dumped) == token
    async with app.ctx.sessions() as session:
        workspace = await session.get(Workspace, "T0100")
    assert workspace is not None and workspace.active and workspace.name == "Te Whatu Ora Waitaha"

    app.sim.add_user("T0100", "U0001")
    reply = await app.slack.slash("tip", team_id="T0100")
    assert reply.status == 200 and reply.json().get("blocks"), reply.body
    await app.settle()
    used = {call.headers.get("Authorization") for call in app.sim.calls if call.team_id}
    assert used <= {f"Bearer {token}"}
