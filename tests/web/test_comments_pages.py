"""The discussion on question pages: the thread, its forms (CSRF), permalinks, the feed,
the hidden crowd and inert XSS."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.models import Comment
from forecasts.services import comments, questions
from forecasts.services.forecasts import submit_forecast
from forecasts.services.users import find_user
from tests.test_markdown import PAYLOADS

ATOM = "{http://www.w3.org/2005/Atom}"


def _question(session, slug, hide):
    q = questions.get_question(session, slug)
    q.hide_crowd_until_forecast = hide
    session.commit()
    return q


def _discussion(page: str) -> str:
    return page[page.index('id="discussion"'):]


def test_post_reply_edit_delete_through_the_page(web, world, session, database):
    _question(session, "strike-open", False)
    web.login("alice")
    page = web.get("/questions/strike-open").text
    assert 'id="comment-body"' in _discussion(page) and "Bob&#x27;s reasoning" in page
    assert "with a forecast of 25.0%" in _discussion(page)
    posted = web.post("/questions/strike-open/comments", {"body": "My *view*"},
                      form_page="/questions/strike-open")
    assert posted.status_code == 303
    with database.session() as s:
        mine = s.scalar(select(Comment).where(Comment.body == "My *view*"))
        rationale = s.scalar(select(Comment).where(Comment.body == "Bob's reasoning"))
    assert posted.headers["Location"].endswith(f"/questions/strike-open#comment-{mine.id}")
    reply = web.post("/questions/strike-open/comments", {"body": "to bob", "parent_id": rationale.id},
                     form_page="/questions/strike-open")
    assert reply.status_code == 303
    edited = web.post(f"/questions/strike-open/comments/{mine.id}/edit", {"body": "My **view**"},
                      form_page="/questions/strike-open")
    assert edited.status_code == 303
    text = _discussion(web.get("/questions/strike-open").text)
    assert "<strong>view</strong>" in text and ">edited<" in text
    assert f'id="comment-{mine.id}"' in text and 'class="comment depth-1' in text
    # Bob's comment has no edit or delete form for alice.
    assert f"/comments/{rationale.id}/edit" not in text and f"/comments/{rationale.id}/delete" not in text
    assert web.post(f"/questions/strike-open/comments/{rationale.id}/edit", {"body": "x"},
                    form_page="/questions/strike-open").status_code == 403
    refused = web.post("/questions/strike-open/comments", {"body": "  "},
                       form_page="/questions/strike-open")
    assert refused.status_code == 422 and "is empty" in refused.text
    long = "y" * 10_001
    refused = web.post("/questions/strike-open/comments", {"body": long},
                       form_page="/questions/strike-open")
    assert refused.status_code == 422 and long in refused.text  # the text is kept
    gone = web.post(f"/questions/strike-open/comments/{mine.id}/delete", {},
                    form_page="/questions/strike-open")
    assert gone.status_code == 303
    assert "My **view**" not in web.get("/questions/strike-open").text


def test_the_edit_window_closes_after_15_minutes(web, world, session):
    _question(session, "strike-open", False)
    q = questions.get_question(session, "strike-open")
    old = comments.post_comment(session, q, find_user(session, "alice"), "old words",
                                now=timeutil.now() - timedelta(minutes=16))
    session.commit()
    web.login("alice")
    page = _discussion(web.get("/questions/strike-open").text)
    assert f"/comments/{old.id}/edit" not in page and f"/comments/{old.id}/delete" in page
    late = web.post(f"/questions/strike-open/comments/{old.id}/edit", {"body": "new words"},
                    form_page="/questions/strike-open")
    assert late.status_code == 409 and "15 minutes" in late.text and "new words" in late.text


def test_admin_hides_and_everyone_sees_the_reason(web, world, session):
    _question(session, "strike-open", False)
    q = questions.get_question(session, "strike-open")
    c = comments.post_comment(session, q, find_user(session, "bob"), "spammy link")
    session.commit()
    web.login("root")
    assert web.post(f"/questions/strike-open/comments/{c.id}/hide", {"reason": ""},
                    form_page="/questions/strike-open").status_code == 422
    assert web.post(f"/questions/strike-open/comments/{c.id}/hide", {"reason": "advertising"},
                    form_page="/questions/strike-open").status_code == 303
    admin_view = _discussion(web.get("/questions/strike-open").text)
    assert "hidden by an admin: advertising" in admin_view and "spammy link" in admin_view
    web.client.post("/logout", data={"csrf_token": web.token("/")})
    anonymous = _discussion(web.get("/questions/strike-open").text)
    assert "hidden by an admin: advertising" in anonymous and "spammy link" not in anonymous
    web.login("alice")
    assert web.post(f"/questions/strike-open/comments/{c.id}/unhide", {},
                    form_page="/questions/strike-open").status_code == 403


def test_every_comment_form_needs_a_csrf_token(web, world, session):
    _question(session, "strike-open", False)
    q = questions.get_question(session, "strike-open")
    c = comments.post_comment(session, q, find_user(session, "root"), "admin's own")
    session.commit()
    web.login("root")
    page = web.get("/questions/strike-open").text
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", _discussion(page), re.S)
    assert len(forms) >= 5 and all('name="csrf_token"' in f for f in forms)
    for path, data in (("comments", {"body": "x"}), (f"comments/{c.id}/edit", {"body": "x"}),
                       (f"comments/{c.id}/delete", {}), (f"comments/{c.id}/hide", {"reason": "x"}),
                       (f"comments/{c.id}/unhide", {})):
        forged = web.client.post(f"/questions/strike-open/{path}", data=data)
        assert forged.status_code == 400 and "did not come from this site" in forged.text, path
    assert session.get(Comment, c.id).body == "admin's own"


def test_comment_forms_need_a_login(web, world):
    response = web.post("/questions/strike-open/comments", {"body": "hi"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_permalinks_land_on_the_right_page(web, world, session):
    _question(session, "strike-open", False)
    q = questions.get_question(session, "strike-open")
    alice = find_user(session, "alice")
    start = timeutil.now() - timedelta(hours=1)
    made = [comments.post_comment(session, q, alice, f"n{i}", now=start + timedelta(seconds=i))
            for i in range(55)]
    session.commit()
    late = web.get(f"/questions/strike-open/comments/{made[54].id}")
    assert late.status_code == 302
    assert late.headers["Location"].endswith(f"/questions/strike-open#comment-{made[54].id}")
    early = web.get(f"/questions/strike-open/comments/{made[0].id}")
    assert early.headers["Location"].endswith(f"/questions/strike-open?page=2#comment-{made[0].id}")
    page2 = web.get("/questions/strike-open?page=2").text
    assert f'id="comment-{made[0].id}"' in page2 and f'id="comment-{made[54].id}"' not in page2
    oldest = web.get("/questions/strike-open?order=oldest").text
    assert oldest.index('id="comment-%d"' % made[0].id) < oldest.index('id="comment-%d"' % made[1].id)
    assert web.get("/questions/strike-open/comments/999999").status_code == 404
    assert web.get("/questions/strike-open?order=sideways").status_code == 422


def test_hidden_crowd_leaves_rationales_and_numbers_out_of_the_html(web, world, session):
    _question(session, "strike-open", True)
    q = questions.get_question(session, "strike-open")
    rationale = session.scalar(select(Comment).where(Comment.question_id == q.id,
                                                     Comment.forecast_id.is_not(None)))
    comments.post_comment(session, q, find_user(session, "bob"), "a plain remark")
    session.commit()
    web.login("alice")
    for path in ("/questions/strike-open", "/questions/strike-open/comments.atom"):
        text = web.get(path).text
        assert "Bob&#x27;s reasoning" not in text and "Bob's reasoning" not in text, path
        assert "25.0%" not in text and "with a forecast" not in text, path
        assert "a plain remark" in text, path
    assert web.get(f"/questions/strike-open/comments/{rationale.id}").status_code == 404
    submit_forecast(session, questions.get_question(session, "strike-open"),
                    find_user(session, "alice"), probability=0.6, rationale="my own view")
    session.commit()
    text = _discussion(web.get("/questions/strike-open").text)
    assert "Bob&#x27;s reasoning" in text and "with a forecast of 25.0%" in text
    assert "with a forecast of 60.0%" in text


def test_own_rationale_shows_with_its_number_while_the_crowd_is_hidden(web, world, session):
    _question(session, "partner-open", True)
    user = find_user(session, "alice")
    submit_forecast(session, questions.get_question(session, "partner-open"), user,
                    probabilities=[0.4, 0.3, 0.2, 0.1], rationale="my vector")
    session.commit()
    web.login("alice")
    text = _discussion(web.get("/questions/partner-open").text)
    assert "my vector" in text and "with a forecast of Canada 40.0% · EU member 30.0%" in text


@pytest.mark.parametrize("payload", PAYLOADS)
def test_xss_in_bodies_and_usernames_is_inert(web, world, session, payload):
    _question(session, "strike-open", False)
    q = questions.get_question(session, "strike-open")
    user = find_user(session, "bob")
    user.username = '<b onmouseover="alert(1)">'
    comments.post_comment(session, q, user, payload)
    session.commit()
    page = web.get("/questions/strike-open").text
    assert '<b onmouseover' not in page
    found = _discussion(page)
    assert "<script" not in found.lower() and "<img" not in found.lower()
    assert not re.search(r"<a [^>]*href=\"(?!https?:|mailto:|/)", found)
    feed = web.get("/questions/strike-open/comments.atom")
    assert feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    assert '<b onmouseover' not in feed.text
    for content in root.iter(f"{ATOM}content"):
        assert content.get("type") == "html" and len(list(content)) == 0
        assert "<script" not in (content.text or "").lower()


def test_the_feed_lists_the_newest_comments_and_the_page_links_it(web, world, session):
    _question(session, "strike-open", False)
    q = questions.get_question(session, "strike-open")
    alice = find_user(session, "alice")
    start = timeutil.now() - timedelta(hours=1)
    for i in range(52):
        comments.post_comment(session, q, alice, f"**note {i}**", now=start + timedelta(seconds=i))
    gone = comments.post_comment(session, q, alice, "deleted one")
    comments.delete_comment(session, gone, alice)
    session.commit()
    page = web.get("/questions/strike-open").text
    assert '<link rel="alternate" type="application/atom+xml"' in page
    root = ET.fromstring(web.get("/questions/strike-open/comments.atom").data)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 50
    assert entries[0].find(f"{ATOM}content").text == "<p><strong>note 51</strong></p>\n"
    assert all("deleted one" not in (e.find(f"{ATOM}content").text or "") for e in entries)
    assert web.get("/questions/nope/comments.atom").status_code == 404
