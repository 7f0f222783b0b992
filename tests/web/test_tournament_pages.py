"""Tournament pages: the list, a tournament's page and leaderboard, joining and leaving,
the admins' forms, the question list filtered by tournament and the question page's links."""
from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.models import (Question, QuestionScore, Tournament, TournamentMember,
                              TournamentQuestion, User)
from forecasts.services import questions, resolution, tournaments
from forecasts.services.forecasts import submit_forecast
from forecasts.web.format import number, signed
from tests.builders import question_data
from tests.web.conftest import add_user

CUP = "spring-cup"
IN_CUP = ["strike-open", "strike-closed", "strike-resolved", "strike-second", "strike-void"]


@pytest.fixture
def cup(world, session):
    """spring-cup: the world's open, closed and resolved questions, a second resolved one
    (alice, bob and carol forecast it) and an annulled one; alice and carol are members,
    bob (scored on both resolved questions) is not."""
    now = timeutil.now()
    carol = add_user(session, "carol")
    users = {**world["users"], "carol": carol}
    second = questions.create_question(session, question_data(
        slug="strike-second", title="Second resolved question",
        open_at=timeutil.iso(now - timedelta(days=120)),
        close_at=timeutil.iso(now - timedelta(days=20))))
    for name, p in (("alice", 0.3), ("bob", 0.6), ("carol", 0.5)):
        submit_forecast(session, second, users[name], probability=p, at=now - timedelta(days=110))
    resolution.resolve(session, second, "no", actor="root", now=now - timedelta(days=19))
    void = questions.create_question(session, question_data(
        slug="strike-void", title="Annulled question",
        open_at=timeutil.iso(now - timedelta(days=100)),
        close_at=timeutil.iso(now - timedelta(days=30))))
    submit_forecast(session, void, users["alice"], probability=0.9, at=now - timedelta(days=90))
    resolution.annul(session, void, "ambiguous", actor="root", now=now - timedelta(days=29))
    tournaments.create(session, CUP, "Spring cup", "The **spring** season.\n\n<script>x</script>",
                       start=now - timedelta(days=200), end=now + timedelta(days=200))
    tournaments.add_questions(session, CUP, IN_CUP)
    for name in ("alice", "carol"):
        tournaments.join(session, CUP, name)
    session.commit()
    return {**world, "users": users}


def section(page, ident: str) -> str:
    text = page.get_data(as_text=True)
    return text.split(f'id="{ident}"', 1)[1].split("</section>", 1)[0]


def table_rows(fragment: str) -> list[list[str]]:
    """The cells of each body row, as text."""
    body = fragment.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def members(database, slug: str) -> set[str]:
    with database.session() as s:
        return set(s.scalars(
            select(User.username).join(TournamentMember, TournamentMember.user_id == User.id)
            .join(Tournament, Tournament.id == TournamentMember.tournament_id)
            .where(Tournament.slug == slug)))


def question_slugs(database, slug: str) -> list[str]:
    with database.session() as s:
        return sorted(s.scalars(
            select(Question.slug)
            .join(TournamentQuestion, TournamentQuestion.question_id == Question.id)
            .join(Tournament, Tournament.id == TournamentQuestion.tournament_id)
            .where(Tournament.slug == slug)))


def tournament(database, slug: str) -> tuple:
    with database.session() as s:
        t = s.scalars(select(Tournament).where(Tournament.slug == slug)).one()
        return t.title, t.description, t.start_at, t.end_at, t.created_by


def snapshot(database) -> list[tuple]:
    """Every tournament with its details, questions and members: to see that nothing changed."""
    with database.session() as s:
        slugs = list(s.scalars(select(Tournament.slug).order_by(Tournament.slug)))
    return [(slug, tournament(database, slug), question_slugs(database, slug),
             sorted(members(database, slug))) for slug in slugs]


# The list.

def test_the_list_with_no_tournament(web):
    page = web.get("/tournaments")
    assert page.status_code == 200
    assert "No tournaments yet." in page.text
    assert re.search(r'<a href="/tournaments" aria-current="page">Tournaments</a>', page.text)


def test_the_list_shows_each_tournament_with_its_counts(web, cup, session):
    tournaments.create(session, "empty-one", "Empty one")
    session.commit()
    rows = table_rows(web.get("/tournaments").get_data(as_text=True))
    by_title = {r[0]: r for r in rows}
    assert set(by_title) == {"Spring cup", "Empty one"}
    assert by_title["Spring cup"][3:] == [str(len(IN_CUP)), "2"]
    assert by_title["Empty one"][1:] == ["—", "—", "0", "0"]
    start = session.scalars(select(Tournament.start_at).where(Tournament.slug == CUP)).one()
    assert by_title["Spring cup"][1] == start.strftime("%d %b %Y")
    assert 'href="/tournaments/spring-cup"' in web.get("/tournaments").text
    assert "New tournament" not in web.get("/tournaments").text


# A tournament's page.

def test_the_leaderboard_is_the_members_sigma_peer_computed_row_by_row(web, cup, session):
    page = web.get(f"/tournaments/{CUP}")
    assert page.status_code == 200
    ids = {u.username: u.id for u in session.scalars(select(User))}
    in_cup = set(session.scalars(select(Question.id).where(Question.slug.in_(IN_CUP))))
    scores = [s for s in session.scalars(select(QuestionScore)) if s.question_id in in_cup]
    scored_questions = 2  # strike-resolved and strike-second; the annulled one is not scored
    want = []
    for name in ("alice", "carol"):
        mine = [s for s in scores if s.user_id == ids[name]]
        want.append((name, len(mine), sum(s.peer for s in mine),
                     sum(s.brier for s in mine) / len(mine)))
    want.sort(key=lambda w: -w[2])
    rows = table_rows(section(page, "leaderboard"))
    assert [r[1] for r in rows] == [w[0] for w in want]  # bob is scored but not a member
    assert [r[0] for r in rows] == ["1", "2"]
    for row, (name, n, peer, brier) in zip(rows, want):
        assert row[2] == f"{n} of {scored_questions}"
        assert row[3] == signed(peer, 1)
        assert row[4] == number(brier)
    assert [(s.user, s.questions) for s in tournaments.leaderboard(session, CUP)] == \
        [(w[0], w[1]) for w in want]
    assert ('<a href="/users/alice">alice</a>' in section(page, "leaderboard")
            and "bob" not in section(page, "leaderboard"))


def test_the_page_shows_description_dates_and_questions_with_their_status(web, cup, session):
    page = web.get(f"/tournaments/{CUP}")
    text = page.get_data(as_text=True)
    assert "<strong>spring</strong>" in text and "<script>x" not in text
    rows = {r[0]: r[1] for r in table_rows(section(page, "questions"))}
    titles = dict(session.execute(select(Question.title, Question.slug)
                                  .where(Question.slug.in_(IN_CUP))).all())
    assert {titles[t] for t in rows} == set(IN_CUP)
    assert rows["Resolved question"] == "resolved" and rows["Annulled question"] == "annulled"
    assert rows["Closed question"] == "closed"
    t = session.scalars(select(Tournament).where(Tournament.slug == CUP)).one()
    assert f'datetime="{timeutil.iso(t.start_at)}"' in text
    assert f'href="/?tournament={CUP}"' in text
    assert "Log in</a> to join" in text and "Edit tournament" not in text


def test_a_tournament_without_questions_or_members(web, world, session):
    tournaments.create(session, "bare-cup", "Bare cup")
    session.commit()
    page = web.get("/tournaments/bare-cup")
    assert page.status_code == 200
    assert "No questions in this tournament yet." in page.text
    assert "No members yet." in page.text
    assert web.get("/tournaments/no-such-cup").status_code == 404


# Joining and leaving.

def test_join_then_leave(web, cup, database):
    web.login("bob")
    page = web.get(f"/tournaments/{CUP}")
    assert ">Join<" in page.text
    joined = web.post(f"/tournaments/{CUP}/join", form_page=f"/tournaments/{CUP}")
    assert joined.status_code == 303 and joined.location.endswith(f"/tournaments/{CUP}")
    assert members(database, CUP) == {"alice", "bob", "carol"}
    page = web.get(f"/tournaments/{CUP}")
    assert "bob" in [r[1] for r in table_rows(section(page, "leaderboard"))]
    assert ">Leave<" in page.text
    left = web.post(f"/tournaments/{CUP}/leave", form_page=f"/tournaments/{CUP}")
    assert left.status_code == 303
    assert members(database, CUP) == {"alice", "carol"}
    page = web.get(f"/tournaments/{CUP}")
    assert "bob" not in [r[1] for r in table_rows(section(page, "leaderboard"))]


def test_posts_without_csrf_or_login_change_nothing(web, client, cup, database):
    before = snapshot(database)
    anonymous = web.post(f"/tournaments/{CUP}/join", form_page="/login")
    assert anonymous.status_code == 302 and "/login" in anonymous.location
    web.login("bob")
    assert client.post(f"/tournaments/{CUP}/join").status_code == 400
    assert client.post(f"/tournaments/{CUP}/leave", data={"csrf_token": "forged"}).status_code == 400
    web.login("root")
    assert client.post("/tournaments/new", data={"slug": "forged-cup", "title": "F"}
                       ).status_code == 400
    assert client.post(f"/tournaments/{CUP}/edit", data={"action": "details", "title": "F"}
                       ).status_code == 400
    assert snapshot(database) == before


# The admins' forms.

def test_non_admins_get_403_and_change_nothing(web, cup, database):
    before = snapshot(database)
    web.login("alice")
    assert web.get("/tournaments/new").status_code == 403
    assert web.get(f"/tournaments/{CUP}/edit").status_code == 403
    page = f"/tournaments/{CUP}"
    assert web.post("/tournaments/new", {"slug": "alice-cup", "title": "Mine"},
                    form_page=page).status_code == 403
    for data in ({"action": "details", "title": "Taken over"},
                 {"action": "add", "questions": "partner-open"},
                 {"action": "remove", "remove": "strike-open"}):
        assert web.post(f"{page}/edit", data, form_page=page).status_code == 403
    assert snapshot(database) == before
    assert web.get("/tournaments/new").status_code == 403
    anonymous_page = web.get(f"/tournaments/{CUP}")
    assert "Edit tournament" not in anonymous_page.text


def test_an_admin_creates_edits_adds_and_removes(web, world, database):
    web.login("root")
    assert "New tournament" in web.get("/tournaments").text
    made = web.post("/tournaments/new", {"slug": "autumn-cup", "title": " Autumn cup ",
                                         "description": "Fall *questions*",
                                         "start": "2026-09-01T00:00", "end": ""},
                    form_page="/tournaments/new")
    assert made.status_code == 303 and made.location.endswith("/tournaments/autumn-cup/edit")
    assert tournament(database, "autumn-cup") == (
        "Autumn cup", "Fall *questions*", datetime(2026, 9, 1, tzinfo=timeutil.UTC), None, "root")
    edit = "/tournaments/autumn-cup/edit"
    page = web.get(edit)
    assert page.status_code == 200 and 'value="2026-09-01T00:00"' in page.text
    saved = web.post(edit, {"action": "details", "title": "Autumn season", "description": "",
                            "start": "2026-09-01T00:00", "end": "2026-12-01T12:30"},
                     form_page=edit)
    assert saved.status_code == 303
    assert tournament(database, "autumn-cup") == (
        "Autumn season", "", datetime(2026, 9, 1, tzinfo=timeutil.UTC),
        datetime(2026, 12, 1, 12, 30, tzinfo=timeutil.UTC), "root")
    added = web.post(edit, {"action": "add", "questions": "strike-open, partner-open\nstrike-closed"},
                     form_page=edit)
    assert added.status_code == 303
    assert question_slugs(database, "autumn-cup") == ["partner-open", "strike-closed", "strike-open"]
    page = web.get(edit)
    assert page.text.count('name="remove"') == 3
    removed = web.post(edit, {"action": "remove", "remove": ["strike-open", "partner-open"]},
                       form_page=edit)
    assert removed.status_code == 303
    assert question_slugs(database, "autumn-cup") == ["strike-closed"]


def test_saving_the_details_as_shown_keeps_the_exact_times(web, world, database, session):
    start = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timeutil.UTC)
    tournaments.create(session, "exact-cup", "Exact", start=start)
    session.commit()
    web.login("root")
    edit = "/tournaments/exact-cup/edit"
    shown = re.search(r'id="start" name="start"[^>]*value="([^"]*)"', web.get(edit).text).group(1)
    assert shown == "2026-03-01T09:30:15"
    saved = web.post(edit, {"action": "details", "title": "Exact cup", "start": shown, "end": ""},
                     form_page=edit)
    assert saved.status_code == 303
    assert tournament(database, "exact-cup")[:4] == ("Exact cup", "", start, None)
    web.post(edit, {"action": "details", "title": "Exact cup", "start": "2026-03-01T09:30:16"},
             form_page=edit)
    assert tournament(database, "exact-cup")[2] == start.replace(second=16, microsecond=0)


def error_at(page, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
    assert match, f"no error at {field}: {page.text}"
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page.text) or field == "remove"
    return html.unescape(match.group(1))


@pytest.mark.parametrize("data, field, status, words", [
    ({"slug": "Bad Slug", "title": "T"}, "slug", 422, "is not a slug"),
    ({"slug": "new", "title": "T"}, "slug", 422, "reserved"),
    ({"slug": CUP, "title": "T"}, "slug", 409, "already exists"),
    ({"slug": "ok-cup", "title": "  "}, "title", 422, "title"),
    ({"slug": "ok-cup", "title": "T", "start": "2026-05-01T00:00", "end": "2026-04-01T00:00"},
     "end", 422, "start must be before the end"),
    ({"slug": "ok-cup", "title": "T", "start": "soon"}, "start", 422, "ISO 8601"),
])
def test_a_bad_new_tournament_is_shown_again_with_the_error_at_its_field(
        web, cup, database, data, field, status, words):
    before = snapshot(database)
    web.login("root")
    page = web.post("/tournaments/new", data, form_page="/tournaments/new")
    assert page.status_code == status
    assert words in error_at(page, field)
    assert 'role="alert"' in page.text
    assert f'value="{html.escape(data["slug"])}"' in page.text  # what was typed stays
    assert snapshot(database) == before


@pytest.mark.parametrize("data, field, status, words", [
    ({"action": "details", "title": "T", "start": "2026-05-01T00:00", "end": "2026-05-01T00:00"},
     "end", 422, "start must be before the end"),
    ({"action": "details", "title": ""}, "title", 422, "title"),
    ({"action": "details", "title": "T", "end": "31/12/2026"}, "end", 422, "ISO 8601"),
    ({"action": "add", "questions": "strike-open no-such-question"}, "questions", 404,
     "'no-such-question'"),
    ({"action": "add", "questions": " "}, "questions", 422, "at least one question"),
    ({"action": "remove"}, "remove", 422, "at least one question"),
])
def test_a_bad_edit_is_shown_again_with_the_error_at_its_field(
        web, cup, database, data, field, status, words):
    before = snapshot(database)
    web.login("root")
    edit = f"/tournaments/{CUP}/edit"
    page = web.post(edit, data, form_page=edit)
    assert page.status_code == status
    assert words in error_at(page, field)
    assert snapshot(database) == before


# The question list and the question page.

def test_the_question_list_filtered_by_tournament(web, cup, session):
    tournaments.create(session, "bare-cup", "Bare cup")
    session.commit()
    page = web.get(f"/?tournament={CUP}")
    assert page.status_code == 200
    shown = set(re.findall(r'<h2><a href="/questions/([^"]+)">', page.text))
    assert shown == set(IN_CUP)
    everything = set(re.findall(r'<h2><a href="/questions/([^"]+)">', web.get("/").text))
    assert shown < everything
    assert f'<option value="{CUP}" selected>Spring cup</option>' in page.text
    assert '<option value="bare-cup" >Bare cup</option>' in page.text
    assert 'in <a href="/tournaments/spring-cup">Spring cup</a>' in page.text
    closed = web.get(f"/?tournament={CUP}&status=closed")
    assert set(re.findall(r'<h2><a href="/questions/([^"]+)">', closed.text)) == {"strike-closed"}
    assert "0 questions" in web.get("/?tournament=bare-cup").text


def test_the_list_offers_the_tournament_filter_only_when_there_are_tournaments(web, world):
    assert 'id="tournament"' not in web.get("/").text


def test_an_unknown_tournament_in_the_list_is_a_clear_error(web, cup):
    page = web.get("/?tournament=no-such-cup")
    assert page.status_code == 400
    assert "tournament: is not the slug of any tournament" in page.text
    assert "no-such-cup" not in page.text.split("<main", 1)[1].split("</form>", 1)[1]


def test_the_question_page_links_its_tournaments(web, cup, session):
    tournaments.create(session, "other-cup", "Another cup")
    tournaments.add_questions(session, "other-cup", ["strike-open"])
    session.commit()
    page = web.get("/questions/strike-open")
    assert re.search(r'In <a href="/tournaments/other-cup">Another cup</a>, '
                     r'<a href="/tournaments/spring-cup">Spring cup</a>', page.text)
    assert 'href="/tournaments/' not in web.get("/questions/partner-open").text.split(
        "<main", 1)[1]


def test_a_long_leaderboard_and_question_list_come_in_pages(web, cup, session):
    for i in range(tournaments.BOARD_PAGE + 3):  # 2 members already, 105 in all
        add_user(session, f"member{i:03d}", password=None)
        tournaments.join(session, CUP, f"member{i:03d}")
    session.commit()
    board = tournaments.leaderboard(session, CUP)
    session.commit()
    first = web.get(f"/tournaments/{CUP}")
    second = web.get(f"/tournaments/{CUP}?page=2")
    names = [[r[1] for r in table_rows(section(p, "leaderboard"))] for p in (first, second)]
    assert names == [[s.user for s in board[:100]], [s.user for s in board[100:]]]
    assert len(names[1]) == 5
    assert 'href="/tournaments/spring-cup?page=2#leaderboard"' in first.text
    assert "Members</dt><dd>105" in first.text
    past = web.get(f"/tournaments/{CUP}?page=3")
    assert past.status_code == 422 and "page: is past the last page (2)" in past.text
    assert web.get(f"/tournaments/{CUP}?qpage=x").status_code == 422
