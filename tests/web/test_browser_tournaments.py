"""Issue #13's acceptance in a real browser: an admin creates a tournament and adds
questions to it; a forecaster joins it, finds herself on its leaderboard with the
service's figures, and opens her track record from her profile."""
from __future__ import annotations

import pytest

from forecasts.services import tournaments
from forecasts.services.track_record import track_record
from forecasts.web import format as fmt
from tests.track_world import build
from forecasts.services.users import get_user, set_password
from tests.web.conftest import FAST, PASSWORD, add_user
from tests.web.test_browser import browser, live_server  # noqa: F401 (fixtures)
from tests.web.test_browser_proposals import log_in

SLUG = "border-season"


@pytest.fixture
def world(session):
    tw = build(session)
    add_user(session, "root", role="admin")
    set_password(session, get_user(session, "alice"), PASSWORD, FAST)
    session.commit()
    return tw


def test_create_add_join_leaderboard_and_track_record(browser, live_server, world, app,  # noqa: F811
                                                      session):
    admin_context, alice_context = browser.new_context(), browser.new_context()
    try:
        admin, alice = admin_context.new_page(), alice_context.new_page()
        for page in (admin, alice):
            page.set_default_timeout(10_000)
        chosen = world.slugs[:5]

        log_in(admin, live_server, "root")
        admin.goto(live_server + "/tournaments")
        admin.click("text=New tournament")
        admin.fill("#slug", SLUG)
        admin.fill("#title", "Border season")
        admin.fill("#description", "Questions on the *border* talks.")
        admin.click("button:has-text('Create tournament')")
        admin.wait_for_selector("h1:has-text('Edit Border season')")
        admin.fill("#questions", " ".join(chosen))
        admin.click("button:has-text('Add questions')")
        for slug in chosen:
            admin.wait_for_selector(f"label:has-text('{slug}')")

        log_in(alice, live_server, "alice")
        alice.goto(live_server + f"/tournaments/{SLUG}")
        assert alice.inner_text("#about-h") == "About"
        assert alice.locator("#leaderboard tbody th").count() == 0  # no members yet
        alice.click("#membership button:has-text('Join')")
        alice.wait_for_selector("#membership button:has-text('Leave')")

        session.expire_all()
        [standing] = tournaments.leaderboard(session, SLUG)
        assert standing.user == "alice" and standing.questions == len(chosen)
        row = alice.locator("#leaderboard tbody tr", has_text="alice")
        cells = row.locator("td").all_inner_texts()
        assert cells == [str(standing.rank), f"{standing.questions} of {len(chosen)}",
                         fmt.signed(standing.peer_total, 1), fmt.number(standing.brier)]
        assert alice.locator("#questions tbody tr").count() == len(chosen)

        alice.click("#leaderboard a:has-text('alice')")
        alice.click("a:has-text('Track record')")
        alice.wait_for_selector("h1:has-text('Track record')")
        assert alice.locator("svg polyline").count() == 3
        alice.select_option("select[name=tournament]", SLUG)
        alice.click("form button[type=submit]:has-text('Show')")
        alice.wait_for_url(f"**tournament={SLUG}**")
        record = track_record(session, "alice", tournament=SLUG,
                              n_boot=app.config["LEADERBOARD_BOOTSTRAP"],
                              seed=app.config["LEADERBOARD_SEED"])
        shown = alice.locator(".track-series tbody tr").count()
        assert shown == len(record.series) == len(chosen)
    finally:
        admin_context.close()
        alice_context.close()
