"""Profiles with scores and calibration; the admins' account list."""
from __future__ import annotations


def test_profile_shows_standing_scores_calibration_and_forecasts(web, world):
    page = web.get("/users/alice")
    assert page.status_code == 200
    text = page.text
    for needed in ("Rank by Brier", "of 2", "Scores by question", "Resolved question",
                   "Calibration", "Reliability", "Resolution", "Uncertainty",
                   "Calibration as a table", "/users/alice/calibration.svg",
                   "90.0% yes", "alice thinks 0.9", "Forecasting since"):
        assert needed in text, needed
    # One row per question forecast, with the number of updates.
    forecasts = text[text.index('id="forecasts-h"'):]
    assert forecasts.count("/questions/strike-resolved") == 1
    assert '<td class="num">2</td>' in forecasts


def test_profile_without_scores(web, world):
    page = web.get("/users/root")
    assert page.status_code == 200
    assert "No scored questions yet" in page.text and "No forecasts yet" in page.text
    assert "Forecasting since" not in page.text


def test_usernames_are_case_insensitive_and_unknown_ones_404(web, world):
    assert web.get("/users/ALICE").status_code == 200
    page = web.get("/users/nobody")
    assert page.status_code == 404 and "no user named" in page.text


def test_calibration_chart(web, world):
    response = web.get("/users/alice/calibration.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert "<circle" in svg and "Calibration of alice" in svg and "style=" not in svg
    assert svg == web.get("/users/alice/calibration.svg").get_data(as_text=True)
    empty = web.get("/users/root/calibration.svg").get_data(as_text=True)
    assert "No resolved binary forecasts yet" in empty and "<circle" not in empty


def test_account_list_is_for_admins_only(web, world):
    assert web.get("/users/").status_code == 302  # anonymous: log in first
    web.login("alice")
    forbidden = web.get("/users/")
    assert forbidden.status_code == 403 and "not allowed" in forbidden.text
    web.post("/logout", form_page="/logout")
    web.login("root")
    page = web.get("/users/")
    assert page.status_code == 200
    assert all(f'href="/users/{n}"' in page.text for n in ("alice", "bob", "root"))
