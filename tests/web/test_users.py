"""Profiles with scores and calibration; the admins' account list."""
from __future__ import annotations


def test_profile_shows_standing_scores_calibration_and_forecasts(web, world):
    page = web.get("/users/alice")
    assert page.status_code == 200
    text = page.text
    for needed in ("Rank by global peer", "of 2", "Global peer",
                   "no interval from one question", "Scores by question", "Resolved question",
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


# --- the profile's wording and dates ------------------------------------------

def test_profile_wording_reads_right_for_any_username(web, world, session):
    from datetime import timedelta

    from forecasts import timeutil
    from forecasts.services.forecasts import submit_forecast
    from tests.web.conftest import add_user

    newbie = add_user(session, "newbie")
    submit_forecast(session, world["binary"], newbie, probability=0.4,
                    at=timeutil.now() - timedelta(hours=1))
    session.commit()
    text = web.get("/users/newbie").text
    assert ("No scored questions yet: scores appear here once a question with a forecast by "
            "newbie is resolved.") in text
    assert "question newbie forecast" not in text
    assert "No scored questions yet: root has not made a forecast." in web.get("/users/root").text


def test_member_since_and_forecasting_since_are_both_right(web, world, session):
    from datetime import timedelta

    from forecasts import timeutil
    from forecasts.web.format import date

    alice = world["users"]["alice"]
    # alice's first forecast (80 days ago) predates her account, as for imported accounts.
    first = timeutil.now() - timedelta(days=80)
    text = web.get("/users/alice").text
    assert f"Forecasting since {date(first)}" in text and f"member since {date(first)}" in text
    # root forecast nothing: a member since the account was created, never forecasting.
    text = web.get("/users/root").text
    assert f"member since {date(world['users']['root'].created_at)}" in text
    web.login("root")
    listing = web.get("/users/").text
    assert _row(listing, "alice").count(date(first)) == 2  # member since, forecasting since
    assert date(world["users"]["root"].created_at) in _row(listing, "root")
    assert "—" in _row(listing, "root")  # never forecast
    assert date(alice.created_at) != date(first)


# --- the admins' user list -------------------------------------------------------

def _row(page_text: str, name: str) -> str:
    table = page_text.index('<table class="accounts">')
    start = page_text.index(f'<a href="/users/{name}">', table)
    return page_text[start:page_text.index("</tr>", start)]


def test_admins_see_each_account_with_its_state_and_actions(web, world):
    web.login("root")
    page = web.get("/users/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    row = _row(page.text, "alice")
    for needed in ('action="/users/alice/role"', 'action="/users/alice/deactivate"',
                   'action="/users/alice/password"', 'name="csrf_token"', "can log in",
                   'type="password"', '<option value="forecaster" selected>'):
        assert needed in row, needed
    assert row.count('name="csrf_token"') == 3


def test_admin_changes_a_role_on_the_web(web, world, session):
    web.login("root")
    response = web.post("/users/alice/role", {"role": "admin"}, form_page="/users/")
    assert response.status_code == 303 and response.headers["Location"] == "/users/"
    assert "alice is admin." in web.get("/users/").text
    bad = web.post("/users/alice/role", {"role": "owner"}, form_page="/users/")
    assert bad.status_code == 422 and "&#39;owner&#39; is not a role" in bad.text
    session.refresh(world["users"]["alice"])
    assert world["users"]["alice"].role == "admin"


def test_the_last_active_admin_is_kept_on_the_web(web, world, session):
    web.login("root")
    for path, form in (("/users/root/role", {"role": "forecaster"}),
                       ("/users/root/deactivate", {})):
        response = web.post(path, form, form_page="/users/")
        assert response.status_code == 409
        assert "last active admin" in response.text and 'role="alert"' in response.text
    session.refresh(world["users"]["root"])
    assert world["users"]["root"].is_admin and world["users"]["root"].active


def test_admin_sets_a_password_that_is_never_shown(app, web, world, session):
    from tests.web.conftest import Web

    alice_browser = Web(app.test_client())
    alice_browser.login("alice")
    web.login("root")
    short = web.post("/users/alice/password", {"password": "short"}, form_page="/users/")
    assert short.status_code == 422 and "at least 10" in short.text
    assert "<details open>" in _row(short.text, "alice")
    response = web.post("/users/alice/password", {"password": "brand new secret"},
                        form_page="/users/")
    assert response.status_code == 303
    listing = web.get("/users/").text
    assert "brand new secret" not in listing and "sessions are ended" in listing
    assert alice_browser.get("/tokens").status_code == 302  # her session ended
    assert Web(app.test_client()).post("/login", {"username": "alice",
                                                  "password": "brand new secret"}).status_code == 303


def test_an_admin_setting_their_own_password_stays_logged_in(web, world):
    web.login("root")
    response = web.post("/users/root/password", {"password": "an admin's new password"},
                        form_page="/users/")
    assert response.status_code == 303
    assert web.get("/users/").status_code == 200


def test_admin_deactivates_and_reactivates_on_the_web(app, web, world, session):
    from tests.web.conftest import PASSWORD, Web

    web.login("root")
    assert web.post("/users/alice/deactivate", form_page="/users/").status_code == 303
    row = _row(web.get("/users/").text, "alice")
    assert "deactivated" in row and 'action="/users/alice/reactivate"' in row
    stranger = Web(app.test_client())
    assert stranger.post("/login", {"username": "alice", "password": PASSWORD}).status_code == 401
    # Her forecasts stay scored and shown.
    profile = web.get("/users/alice").text
    assert "Rank by global peer" in profile and "deactivated" in profile
    assert web.post("/users/alice/reactivate", form_page="/users/").status_code == 303
    stranger.login("alice")


def test_user_actions_need_an_admin_and_a_csrf_token(web, world, session):
    paths = ("/users/bob/role", "/users/bob/password", "/users/bob/deactivate",
             "/users/bob/reactivate")
    for path in paths:
        assert web.post(path, {"role": "admin", "password": "x" * 12}).status_code == 302
    web.login("alice")
    for path in paths:
        assert web.post(path, {"role": "admin", "password": "x" * 12}).status_code == 403
    web.post("/logout", form_page="/logout")
    web.login("root")
    assert web.client.post("/users/bob/role", data={"role": "admin"}).status_code == 400
    assert web.post("/users/nobody/role", {"role": "admin"}, form_page="/users/").status_code == 404
    session.refresh(world["users"]["bob"])
    assert world["users"]["bob"].role == "forecaster" and world["users"]["bob"].active
