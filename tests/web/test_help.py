"""The scoring help page: its worked example is the first reference case, computed by the
engine, and the page shows those numbers."""
from __future__ import annotations

from datetime import datetime

import pytest

from forecasts.web import help as help_page
from forecasts.web.format import number, percent, signed

TOL = 1e-9
DAY = 86_400


def _day(text: str, start: str) -> float:
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return (parse(text) - parse(start)).total_seconds() / DAY


def test_the_example_is_the_first_reference_case(reference):
    case = reference["bundles"][0]
    question, = case["bundle"]["questions"]
    assert question["kind"] == "binary" and question["resolution"]["outcome"] == "yes"
    assert _day(question["close_at"], question["open_at"]) == help_page.EXAMPLE_DAYS
    assert [(f["user"], _day(f["at"], question["open_at"]), f["probability"])
            for f in case["bundle"]["forecasts"]] == list(help_page.EXAMPLE_FORECASTS)
    rps = next(c for c in reference["flat"] if c["id"] == "rps_ordered")
    assert (tuple(rps["probs"][0]), rps["outcome_index"][0]) == help_page.RPS_EXAMPLE


def test_the_example_numbers_match_the_reference(reference):
    expected = reference["bundles"][0]["expected"]
    got = help_page.worked_example(30.0)
    by_brier = {r["user"]: r for r in expected["leaderboard_brier"]}
    assert [r["user"] for r in got["rows"]] == \
        [r["user"] for r in expected["leaderboard_peer_global"]]
    for row, want in zip(got["rows"], expected["leaderboard_peer_global"]):
        assert row["rank"] == want["rank"]
        for key in ("peer_global", "relative_brier"):
            assert row[key] == pytest.approx(want[key], abs=TOL), (row["user"], key)
        for key in ("brier", "log", "peer", "coverage"):
            assert row[key] == pytest.approx(by_brier[row["user"]][key], abs=TOL)
    crowd = expected["scores"]["strike-before-2026-01-11"]["crowd"]
    assert got["crowd"] == pytest.approx(crowd, abs=TOL)
    # The crowd's steps, weighted by their days, give the crowd's Brier.
    steps = got["crowd_steps"]
    assert sum((s["to"] - s["from"]) * s["brier"] for s in steps) / help_page.EXAMPLE_DAYS == \
        pytest.approx(crowd["brier"], abs=TOL)
    for f in got["forecasts"]:  # two-option Brier of a yes
        assert f["brier"] == pytest.approx(2 * (1 - f["p_yes"]) ** 2, abs=TOL)
    rps = next(c for c in reference["flat"] if c["id"] == "rps_ordered")
    assert got["rps"]["value"] == pytest.approx(rps["rps"][0], abs=TOL)
    # The page's sentences rely on these facts of the example.
    rows = {r["user"]: r for r in got["rows"]}
    assert min(rows.values(), key=lambda r: r["brier"])["user"] == "carol"
    assert got["rows"][0]["user"] == "alice"


def test_the_page_explains_every_score_with_the_example(web, reference):
    page = web.get("/help/scoring")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for heading in ("Brier score", "Log score", "Ranked probability score", "coverage",
                    "The crowd", "Peer score", "Global peer score", "Relative Brier",
                    "Intervals", "A worked example"):
        assert heading in text, heading
    expected = reference["bundles"][0]["expected"]
    alice = next(r for r in expected["leaderboard_peer_global"] if r["user"] == "alice")
    alice_brier = next(r for r in expected["leaderboard_brier"] if r["user"] == "alice")
    crowd = expected["scores"]["strike-before-2026-01-11"]["crowd"]
    rps = next(c for c in reference["flat"] if c["id"] == "rps_ordered")
    for shown in (number(alice_brier["brier"], 3), number(crowd["brier"], 3),
                  signed(alice["relative_brier"], 3), signed(alice["peer_global"], 2),
                  signed(alice_brier["peer"], 2), percent(alice_brier["coverage"], 0),
                  number(rps["rps"][0], 4), "max(30,"):
        assert shown in text, shown
    assert 'href="/leaderboard"' in text


def test_the_page_uses_the_configured_prior(env):
    from forecasts import create_app

    app = create_app({**env, "TESTING": True, "LEADERBOARD_PEER_PRIOR": 0.5})
    try:
        text = app.test_client().get("/help/scoring").get_data(as_text=True)
    finally:
        app.extensions["forecasts_db"].dispose()
    peer = help_page.worked_example(0.5)["rows"][0]
    assert peer["peer_global"] == pytest.approx(peer["peer"] / 1.0)  # coverage 1 > 0.5
    assert signed(peer["peer_global"], 2) in text and "max(0.5," in text


def test_the_footer_and_the_leaderboard_link_here(web):
    for path in ("/", "/leaderboard"):
        assert 'href="/help/scoring"' in web.get(path).get_data(as_text=True), path
