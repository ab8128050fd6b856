"""Fair turns and truthful counts: kinds take turns in the nudges, figures keep small groups
hidden, and a deleted reflection or a retired item stops counting."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.content import ITEM_KINDS
from tests.conftest import RunningApp
from tests.test_dispatch import DUE, deliveries, dispatch_at, subscribe
from tests.test_home import press

# --- kinds take turns --------------------------------------------------------------------------


async def test_after_ten_tips_on_demand_the_nudges_still_take_turns_among_kinds(
    app: RunningApp, clock: ManualClock
) -> None:
    for _ in range(10):
        await press(app, "home_tip")  # "Give me a tip" on the Home tab
    await subscribe(app)
    weeks = 3 * len(ITEM_KINDS)
    for week in range(weeks):
        await dispatch_at(app, clock, DUE + timedelta(weeks=week))
        delivery = (await deliveries(app))[-1]
        app.sim.clear()
        await app.slack.click("nudge_skip", str(delivery.id))  # answered: no back-off question
        await app.sim.wait_for("response_url")
        await press(app, "home_tip")  # more on demand between nudges changes nothing
    kinds = [d.item_kind for d in await deliveries(app) if d.kind == "nudge"]
    assert len(kinds) == weeks
    # No kind is absent for more than len(ITEM_KINDS) nudges in a row.
    for start in range(weeks - len(ITEM_KINDS) + 1):
        window = kinds[start : start + len(ITEM_KINDS)]
        assert set(window) == set(ITEM_KINDS), kinds
