"""Proposing, reviewing and editing questions on the web, with and without JavaScript."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.models import DRAFT, PUBLISHED, REJECTED, Question, QuestionRevision
from forecasts.services import proposals

TITLE = "Will Mexico sign a security pact with Canada?"
SLUG = "will-mexico-sign-a-security-pact-with-canada"


def local(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def form(**changes) -> dict[str, str]:
    now = timeutil.now()
    data = {"title": TITLE, "description": "Counts if **signed**. <script>alert(1)</script>",
            "kind": "binary", "tags": "security, diplomacy", "open_at": local(now),
            "close_at": local(now + timedelta(days=20)), "rule_type": "deadline",
            "deadline_default": "no", "action": "save"}
    data.update(changes)
    return data


def stored(database, slug: str = SLUG) -> Question | None:
    with database.session() as s:
        q = s.scalars(select(Question).where(Question.slug == slug)).first()
        if q is not None:
            s.expunge(q)
        return q


def test_propose_needs_login(web, world):
    page = web.get("/propose")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


def test_forecaster_proposes_a_draft_without_javascript(web, world, database):
    web.login("alice")
    page = web.get("/propose")
    assert page.status_code == 200 and 'name="rule_json"' not in page.text  # admins only
    response = web.post("/propose", form(), form_page="/propose")
    assert response.status_code == 303 and response.headers["Location"].endswith("/propose/mine")
    q = stored(database)
    assert (q.review_state, q.rule) == (DRAFT, {"type": "deadline", "default": "no"})
    assert q.tags == ["security", "diplomacy"]
    mine = web.get("/propose/mine").text
    assert TITLE in mine and "waiting for review" in mine
    # Nobody else sees it: not on its page, in the list, or the API.
    assert SLUG not in web.get("/").text
    web.client.post("/logout", data={"csrf_token": web.token("/")})
    assert web.get(f"/questions/{SLUG}").status_code == 404
    assert web.get(f"/api/v1/questions/{SLUG}").status_code == 404
    assert SLUG not in web.get("/api/v1/questions").text


@pytest.mark.parametrize("changes, field, words", [
    ({"title": ""}, "title", "required"),
    ({"close_at": ""}, "close_at", "required"),
    ({"close_at": "2020-01-01T00:00"}, "close_at", "after open_at"),
    ({"open_at": "2020-01-01T00:00", "close_at": "2020-02-01T00:00"}, "close_at", "future"),
    ({"kind": "multiple_choice", "options": "only one"}, "options", "2 to 20"),
    ({"rule_type": "threshold", "series": "rate", "op": ">=", "value": "lots", "when": "any"},
     "value", "not a number"),
    ({"rule_type": "threshold", "series": "Bad Series", "op": ">=", "value": "1", "when": "any"},
     "series", "series"),
    ({"rule_type": "json", "rule_json": '{"type": "manual"}'}, "rule_type", "not a rule you can choose"),
    ({"slug": "strike-open"}, "slug", "already exists"),
    ({"tags": "fine, not_ok!"}, "tags", "not a tag"),
])
def test_errors_are_shown_inline_and_nothing_is_saved(web, world, database, changes, field, words):
    web.login("alice")
    response = web.post("/propose", form(**changes), form_page="/propose")
    assert response.status_code in (409, 422)
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert match and words in match.group(1), response.text[:3000]
    assert f'id="{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert stored(database) is None
    # What was typed is kept.
    kept = form(**changes)["description"]
    assert f">{kept.replace('<', '&lt;').replace('>', '&gt;')}</textarea>" in response.text


def test_preview_button_shows_the_rule_in_words(web, world, database):
    web.login("alice")
    response = web.post("/propose", form(action="preview", rule_type="threshold", series="mx-ca-pact",
                                         op=">=", value="1", when="any"), form_page="/propose")
    assert response.status_code == 200
    assert "Resolves YES as soon as the series mx-ca-pact reaches 1 or more" in response.text
    assert f"<code id=\"derived-slug\">{SLUG}</code>" in response.text
    # The description preview is Markdown, with the script inert.
    assert "<strong>signed</strong>" in response.text and "<script>alert" not in response.text
    assert stored(database) is None


def test_live_check_answers_in_json(web, world, database):
    web.login("alice")
    good = web.post("/propose/preview", form(), form_page="/propose").get_json()
    assert good == {"ok": True, "errors": {}, "slug": SLUG, "rule_text": (
        f"Resolves NO at close ({(timeutil.now() + timedelta(days=20)).strftime('%Y-%m-%d %H:%M UTC')}) "
        "unless an administrator has resolved it earlier.")}
    bad = web.post("/propose/preview", form(title="", close_at=""), form_page="/propose").get_json()
    assert bad["ok"] is False and set(bad["errors"]) == {"close_at"}
    bad = web.post("/propose/preview", form(title=""), form_page="/propose").get_json()
    assert bad["errors"] == {"title": "is required and must be text"}
    assert stored(database) is None and stored(database, "untitled") is None
    # Without a CSRF token the check is refused like any form.
    assert web.client.post("/propose/preview", data=form()).status_code == 400


def test_admin_reviews_approves_and_rejects(web, world, database):
    web.login("alice")
    web.post("/propose", form(), form_page="/propose")
    web.post("/propose", form(title="A vague idea about trade"), form_page="/propose")
    web.client.post("/logout", data={"csrf_token": web.token("/")})
    web.login("root")
    home = web.get("/").text
    assert re.search(r'Review <span class="count-badge">2</span>', home)
    queue = web.get("/review").text
    assert TITLE in queue and "alice" in queue
    draft = web.get(f"/review/{SLUG}").text
    assert "<strong>signed</strong>" in draft and "&lt;script&gt;" in draft
    assert web.post(f"/review/{SLUG}/approve", form_page=f"/review/{SLUG}").status_code == 303
    assert stored(database).review_state == PUBLISHED and stored(database).reviewed_by == "root"
    assert web.get(f"/questions/{SLUG}").status_code == 200
    empty = web.post("/review/a-vague-idea-about-trade/reject", {"reason": " "},
                     form_page="/review/a-vague-idea-about-trade")
    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    assert web.post("/review/a-vague-idea-about-trade/reject", {"reason": "Too vague: which treaty?"},
                    form_page="/review/a-vague-idea-about-trade").status_code == 303
    assert stored(database, "a-vague-idea-about-trade").review_state == REJECTED
    assert "count-badge" not in web.get("/").text
    web.client.post("/logout", data={"csrf_token": web.token("/")})
    web.login("alice")
    mine = web.get("/propose/mine").text
    assert "Too vague: which treaty?" in mine and f'href="/questions/{SLUG}"' in mine


def test_review_pages_are_for_admins(web, world):
    web.login("alice")
    web.post("/propose", form(), form_page="/propose")
    assert web.get("/review").status_code == 403
    assert web.get(f"/review/{SLUG}").status_code == 403
    assert web.client.post(f"/review/{SLUG}/approve",
                           data={"csrf_token": web.token("/")}).status_code == 403
    assert web.get(f"/questions/{SLUG}/edit").status_code == 403
    assert "Review" not in web.get("/").text.split("<main")[0]


def test_admin_creates_a_published_question_with_a_json_rule(web, world, database):
    web.login("root")
    rule = {"type": "any_of", "questions": ["strike-open"]}
    response = web.post("/propose", form(rule_type="json", rule_json=json.dumps(rule), slug="any-strike"),
                        form_page="/propose")
    assert response.status_code == 303 and response.headers["Location"].endswith("/questions/any-strike")
    q = stored(database, "any-strike")
    assert (q.review_state, q.rule) == (PUBLISHED, rule)
    bad = web.post("/propose", form(rule_type="json", rule_json="{nope", slug="bad-json"), form_page="/propose")
    assert bad.status_code == 422 and 'id="rule_json-error"' in bad.text


def test_admin_edits_then_approves_a_draft(web, world, database):
    web.login("alice")
    web.post("/propose", form(), form_page="/propose")
    web.client.post("/logout", data={"csrf_token": web.token("/")})
    web.login("root")
    edit = web.get(f"/questions/{SLUG}/edit")
    assert edit.status_code == 200 and f'value="{TITLE}"' in edit.text
    changed = form(title=TITLE + " (by 2027)", rule_type="manual")
    response = web.post(f"/questions/{SLUG}/edit", changed, form_page=f"/questions/{SLUG}/edit")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/review/{SLUG}")
    q = stored(database)
    assert q.title == TITLE + " (by 2027)" and q.rule == {"type": "manual"} and q.review_state == DRAFT
    web.post(f"/review/{SLUG}/approve", form_page=f"/review/{SLUG}")
    page = web.get(f"/questions/{SLUG}").text
    assert 'id="edits"' in page and "by root" in page and "(by 2027)" in page


def test_edit_of_a_question_with_forecasts_keeps_to_wording(web, world, database):
    web.login("root")
    edit = web.get("/questions/strike-open/edit").text
    assert "only its title, description, tags and hidden crowd can change" in edit
    assert re.search(r'<fieldset class="q-fields" disabled>', edit)
    # A forged post of a structural field changes nothing of it.
    before = stored(database, "strike-open")
    response = web.post("/questions/strike-open/edit",
                        {"title": "Sharper title", "description": "New *words*", "tags": "security, war",
                         "close_at": "2099-01-01T00:00", "kind": "multiple_choice"},
                        form_page="/questions/strike-open/edit")
    assert response.status_code == 303
    after = stored(database, "strike-open")
    assert (after.title, after.description, after.close_at, after.kind) == (
        "Sharper title", "New *words*", before.close_at, before.kind)
    page = web.get("/questions/strike-open").text
    assert "Edited" in page and "Sharper title" in page and "<em>words</em>" in page
    with database.session() as s:
        [revision] = s.scalars(select(QuestionRevision)).all()
        assert set(revision.changes) == {"title", "description", "tags"}


def test_question_page_renders_markdown_safely(web, world, session):
    q = world["binary"]
    q.description = "**Bold** [x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    session.commit()
    page = web.get("/questions/strike-open").text
    assert "<strong>Bold</strong>" in page
    assert 'href="javascript' not in page.lower()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_waiting_count_ignores_other_states(session, world):
    assert proposals.waiting_count(session) == 0


def test_an_unchanged_form_is_no_edit(web, world, session, database):
    """The form shows every field of a question as stored, so sending it back changes
    nothing: a deadline default naming an option, a threshold value, times to the
    microsecond."""
    from forecasts.services import questions as question_service
    from tests.builders import mc_data
    from tests.web.conftest import around_now

    question_service.create_question(session, mc_data(
        slug="mc-deadline", rule={"type": "deadline", "default": "EU member"},
        **around_now(close_at="2099-01-01T10:20:30.123456Z")))
    question_service.create_question(session, {**around_now(), "slug": "threshold-q", "title": "T?",
        "rule": {"type": "threshold", "series": "s", "op": "<", "value": 0.123456789, "when": "close"}})
    session.commit()
    web.login("root")
    for slug in ("mc-deadline", "threshold-q"):
        page = web.get(f"/questions/{slug}/edit").text
        values = dict(re.findall(r'name="([a-z_]+)"[^>]*?value="([^"]*)"', page))
        values.update(re.findall(r'name="([a-z_]+)"[^>]*>([^<]*)</textarea>', page))
        for name, option in re.findall(r'<select id="([a-z_]+)".*?<option value="([^"]*)" selected', page, re.S):
            values[name] = option
        values.pop("csrf_token", None)
        if not re.search(r'name="ordered"[^>]*checked', page):
            values.pop("ordered", None)  # an unchecked box sends nothing
        values = {k: v.replace("&gt;", ">").replace("&lt;", "<").replace("&#34;", '"').replace("&quot;", '"')
                  for k, v in values.items()}
        response = web.post(f"/questions/{slug}/edit", values, form_page=f"/questions/{slug}/edit")
        assert response.status_code == 303, response.text[:2000]
        assert "Nothing changed." in web.get(f"/questions/{slug}").text, slug
    with database.session() as s:
        assert s.scalars(select(QuestionRevision)).all() == []
