"""Bounded pages (issue #10): the leaderboard a hundred forecasters a page and the profile
fifty scores and fifty questions a page, showing the same figures as the full
computations, in a number of statements that does not grow with the rows."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.models import Forecast, Question, QuestionScore
from forecasts.services import browse, calibration, corrections, leaderboard, questions, resolution
from forecasts.services import profile as profile_lists
from forecasts.services.forecasts import submit_forecast
from forecasts.services.users import get_user
from tests.builders import question_data
from tests.test_query_budget import counting
from tests.web.conftest import PASSWORD, Web, add_user

ROW = re.compile(r'<th scope="row">(?:<a href="/users/[^"]+">([^<]+)</a>|'
                 r'<span class="crowd-name">(The crowd)</span>)')
N_RANKED = 205  # three pages: 100, 100, 5


def shown(page) -> list[str]:
    """The forecasters of the page's table in order ("crowd" for the crowd's row)."""
    body = page.text.split("<tbody>")[1].split("</tbody>")[0]
    return [a or "crowd" for a, b in ROW.findall(body)]


@pytest.fixture
def crowded(session):
    """205 forecasters on two resolved questions, so the board has three pages. The
    forecasts are stored as an import stores them (the board only reads scores)."""
    now = timeutil.now()
    made = [questions.create_question(session, question_data(
        slug=f"settled-{i}", open_at=timeutil.iso(now - timedelta(days=90)),
        close_at=timeutil.iso(now - timedelta(days=10 + i)))) for i in range(2)]
    for n in range(N_RANKED):
        user = add_user(session, f"f{n:03d}", password=None if n % 50 else PASSWORD)
        session.add_all(Forecast(question_id=q.id, user_id=user.id,
                                 at=now - timedelta(days=80 - n % 50),
                                 probability=round(0.02 + 0.96 * ((n * 37 + i * 11) % 97) / 96, 3))
                        for i, q in enumerate(made))
    session.flush()
    for i, q in enumerate(made):
        resolution.resolve(session, q, "yes" if i else "no", actor="root",
                           now=now - timedelta(days=9))
    session.commit()
    return made


def full_order(session, **query) -> list[str]:
    """The whole board in display order: the ranked rows, with the crowd's row moved to
    where its score places it (after every row when it has no score of that metric)."""
    metric = query.get("metric", leaderboard.DEFAULT_METRIC)
    rows = leaderboard.compute(session, leaderboard.question_filter(None, None, None), metric,
                               1, True, leaderboard.DEFAULT_BOOTSTRAP, leaderboard.DEFAULT_SEED,
                               leaderboard.DEFAULT_PEER_PRIOR)
    ranked = [r["user"] for r in rows if r["rank"] is not None]
    crowd = next(r for r in rows if r["rank"] is None)
    if crowd[metric] is None:
        return ranked + ["crowd"]
    lower = metric in leaderboard.LOWER_IS_BETTER
    better = [r for r in rows if r["rank"] is not None
              and (r[metric] < crowd[metric] if lower else r[metric] > crowd[metric])]
    return ranked[:len(better)] + ["crowd"] + ranked[len(better):]


@pytest.mark.parametrize("query", ["", "metric=brier", "metric=log&crowd=1"])
def test_leaderboard_pages_together_are_the_whole_board(web, crowded, session, query):
    metric = re.search(r"metric=(\w+)", query)
    expected = full_order(session, **({"metric": metric.group(1)} if metric else {}))
    pages = []
    for number in (1, 2, 3):
        page = web.get(f"/leaderboard?{query}&page={number}")
        assert page.status_code == 200
        assert len(page.get_data()) < 100_000  # a page, not the board (300 KB budget)
        assert f"Showing {100 * number - 99}–{min(100 * number, N_RANKED)}, page {number} of 3" in page.text
        assert f"{N_RANKED} forecasters ranked" in page.text
        pages.append(shown(page))
    assert [len([n for n in p if n != "crowd"]) for p in pages] == [100, 100, 5]
    assert sum(pages, []) == expected
    # The default page is the first.
    assert shown(web.get(f"/leaderboard?{query}")) == pages[0]


def test_page_links_keep_the_filters(web, crowded):
    page = web.get("/leaderboard?metric=brier&crowd=0&min_questions=2&page=2")
    assert page.status_code == 200 and "crowd" not in shown(page)
    links = re.findall(r'<nav class="pager" aria-label="Leaderboard pages">(.*?)</nav>', page.text, re.S)
    hrefs = re.findall(r'href="([^"]+)"', links[0])
    assert hrefs and all("metric=brier" in h and "crowd=0" in h and "min_questions=2" in h
                         for h in hrefs)
    assert {re.search(r"page=(\d)", h.replace("&amp;", "&")).group(1) for h in hrefs} == {"1", "3"}
    assert '<span aria-current="page">2</span>' in links[0]


def test_the_viewers_own_row_is_shown_with_its_true_rank(app, crowded, session):
    rows = leaderboard.leaderboard(session)
    by_brier = [r["user"] for r in leaderboard.leaderboard(session, metric="brier")]
    session.rollback()  # the arranging session writes: let the login write too
    at, me = max((i, r) for i, r in enumerate(rows) if not int(r["user"][1:]) % 50)  # has a password
    assert at >= 100
    own_page = at // 100 + 1
    web = Web(app.test_client())
    web.login(me["user"])
    first = web.get("/leaderboard")
    names = shown(first)
    assert names[0] == me["user"] and names.count(me["user"]) == 1 and len(names) == 101
    assert f"Your row: rank {me['rank']} of {N_RANKED}, on" in first.text
    assert f'<a href="/leaderboard?page={own_page}">page {own_page}</a>' in first.text
    mine = first.text.split('class="mine-label"')[1].split("</tr>", 2)[1]
    assert f'<td class="num">{me["rank"]}</td>' in mine and ' me"' in mine
    # On the viewer's own page the row is where it ranks, once, with no extra row.
    own = web.get(f"/leaderboard?page={own_page}")
    assert "Your row" not in own.text and shown(own).count(me["user"]) == 1
    assert shown(own).index(me["user"]) == at - 100 * (own_page - 1)
    # The filters are kept in the link to the viewer's page.
    elsewhere = 1 if by_brier.index(me["user"]) >= 100 else 3
    brier = web.get(f"/leaderboard?metric=brier&crowd=0&page={elsewhere}")
    assert "Your row" in brier.text and "metric=brier&amp;crowd=0&amp;page=" in brier.text
    web.post("/logout", form_page="/logout")
    assert "Your row" not in web.get("/leaderboard?page=2").text


@pytest.mark.parametrize("value, message", [("0", "is not a page number"),
                                            ("two", "is not a page number"),
                                            ("99999999", "is not a page number"),
                                            ("4", "is past the last page (3)")])
def test_a_bad_page_is_named(web, crowded, value, message):
    page = web.get(f"/leaderboard?page={value}")
    assert page.status_code == 400
    alert = re.search(r'<p class="alert" role="alert">([^<]*)</p>', page.text).group(1)
    assert alert.startswith("page: ") and message in alert


def test_downloads_and_the_api_stay_complete(web, crowded, session):
    rows = list(csv.DictReader(io.StringIO(web.get("/leaderboard.csv").get_data(as_text=True))))
    assert len(rows) == N_RANKED + 1  # and the crowd
    api = web.get("/api/v1/leaderboard").get_json()
    listed = api["rows"] if isinstance(api, dict) and "rows" in api else api
    assert len(listed) >= N_RANKED


def test_pages_slice_the_served_board_without_recomputing(web, crowded, monkeypatch):
    calls = []
    compute = leaderboard.compute
    monkeypatch.setattr(leaderboard, "compute", lambda *a, **k: calls.append(a[2]) or compute(*a, **k))
    for number in (1, 2, 3):
        assert web.get(f"/leaderboard?page={number}").status_code == 200
    assert calls == []  # the default board: its snapshot
    for number in (1, 2, 3):
        assert web.get(f"/leaderboard?metric=brier&page={number}").status_code == 200
    assert calls == ["brier"]  # computed once, then from the cache


# --- the profile -----------------------------------------------------------------------

N_QUESTIONS = 110  # three pages of forecast questions
N_SETTLED = 55     # two pages of scores


@pytest.fixture
def busy(session):
    """alice forecast 110 binary questions (twice on every third), bob some of them; 55
    are resolved, each closing at its own time."""
    now = timeutil.now()
    alice, bob = add_user(session, "alice"), add_user(session, "bob")
    made = []
    for i in range(N_QUESTIONS):
        q = questions.create_question(session, question_data(
            slug=f"q-{i:03d}", title=f"Question {i}", open_at=timeutil.iso(now - timedelta(days=60)),
            close_at=timeutil.iso(now + timedelta(days=30, hours=(i * 7) % 50))))
        made.append(q)
        times = [now - timedelta(days=50, minutes=i)] + ([now - timedelta(days=20, minutes=i % 5)]
                                                         if i % 3 == 0 else [])
        session.add_all(Forecast(question_id=q.id, user_id=alice.id, at=at,
                                 probability=0.1 + 0.8 * ((i * 13) % 10) / 10,
                                 rationale=f"because {i}" if i % 2 else None) for at in times)
        if i % 4 == 0:
            session.add(Forecast(question_id=q.id, user_id=bob.id, probability=0.5,
                                 at=now - timedelta(days=40)))
    session.flush()
    for q in made[1::2]:
        resolution.resolve(session, q, "yes" if q.id % 3 else "no", actor="root",
                           known_at=now - timedelta(days=30), now=now)
    session.commit()
    return made


def check_profile(app, session, client, name: str = "alice") -> None:
    """Every page of the profile, read over HTTP and from the services, is the full
    computation's rows in its order; the counts, means and calibration are the same."""
    user = get_user(session, name)
    session.expire_all()
    full = browse.user_questions(session, user)
    index = profile_lists.forecast_index(session, user)
    got = []
    pages = max(1, -(-len(full) // profile_lists.PER_PAGE))
    for number in range(1, pages + 1):
        page = profile_lists.forecast_page(session, user, number)
        assert page.pages == pages and page.total == len(full)
        got += page.items
    assert [(e.question.id, e.latest.id, e.count, e.outcome) for e in got] == \
        [(e.question.id, e.latest.id, e.count, e.outcome) for e in full]
    assert (index.n_forecasts, len(index.question_ids), index.first_at) == \
        browse.user_activity(session, user)
    # Scores: latest close first, the newest question first among equal closes.
    stored = session.execute(
        select(Question.slug, Question.title, QuestionScore.brier, QuestionScore.log,
               QuestionScore.rps, QuestionScore.peer, QuestionScore.coverage, Question.close_at,
               Question.id)
        .join(Question, Question.id == QuestionScore.question_id)
        .where(QuestionScore.user_id == user.id)).all()
    stored.sort(key=lambda r: (r[-2], r[-1]), reverse=True)
    scored = []
    pages = max(1, -(-len(stored) // profile_lists.PER_PAGE))
    for number in range(1, pages + 1):
        scored += profile_lists.scores_page(session, user, number).items
    keys = ("question", "title", "brier", "log", "rps", "peer", "coverage")
    assert [tuple(r[k] for k in keys) for r in scored] == [tuple(r[:7]) for r in stored]
    # The standing's figures are the means over the same score rows.
    standing, _ = leaderboard.standing(session, user)
    if stored:
        n = len(stored)
        assert standing["questions"] == n
        assert standing["brier"] == pytest.approx(sum(r[2] for r in stored) / n, rel=1e-12)
        assert standing["log"] == pytest.approx(sum(r[3] for r in stored) / n, rel=1e-12)
        assert standing["peer"] == pytest.approx(sum(r[5] for r in stored) / n, rel=1e-9, abs=1e-12)
        assert standing["peer_total"] == pytest.approx(sum(r[5] for r in stored), rel=1e-9, abs=1e-12)
        assert standing["coverage"] == pytest.approx(sum(r[6] for r in stored) / n, rel=1e-12)
    assert calibration.calibration(session, name) == calibration._calibration(session, name)
    # The page shows the first fifty of each, and its counts.
    text = client.get(f"/users/{name}").get_data(as_text=True)
    assert f"{index.n_forecasts} forecasts on {len(full)} questions" in text
    section = text[text.index('id="forecasts-h"'):]
    assert [m for m in re.findall(r'<td><a href="/questions/([^"]+)">', section)] == \
        [e.question.slug for e in full[:profile_lists.PER_PAGE]]
    section = text[text.index('id="qscores-h"'):text.index('id="forecasts-h"')]
    assert re.findall(r'<td><a href="/questions/([^"]+)">', section) == \
        [r[0] for r in stored[:profile_lists.PER_PAGE]]


def test_profile_pages_and_figures_match_the_full_computation(app, client, busy, session):
    check_profile(app, session, client)
    check_profile(app, session, client, "bob")
    now = timeutil.now()
    # A new forecast moves its question to the front of the first page.
    alice = get_user(session, "alice")
    submit_forecast(session, busy[0], alice, probability=0.55, at=now - timedelta(minutes=1),
                    as_comment=False)
    session.commit()
    check_profile(app, session, client)
    assert profile_lists.forecast_page(session, alice).items[0].question.slug == "q-000"
    # A resolution adds a score row, a correction changes scores and the calibration.
    resolution.resolve(session, busy[0], "yes", actor="root", known_at=now - timedelta(days=30),
                       now=now)
    session.commit()
    check_profile(app, session, client)
    corrections.resolve(session, busy[1], "no" if busy[1].id % 3 else "yes", actor="root",
                        known_at=now - timedelta(days=30), force=True, now=now)
    session.commit()
    check_profile(app, session, client)
    check_profile(app, session, client, "bob")


def test_profile_page_links_and_sizes(client, busy):
    first = client.get("/users/alice")
    assert first.status_code == 200 and len(first.get_data()) < 100_000
    text = first.get_data(as_text=True)
    assert "110 questions, most recently forecast first; page 1 of 3." in text
    assert "56 scored questions" not in text and f"{N_SETTLED} scored questions" in text
    later = client.get("/users/alice?scores_page=2&forecasts_page=3").get_data(as_text=True)
    assert "page 2 of 2" in later and "page 3 of 3" in later
    nav = re.findall(r'<nav class="pager" aria-label="Pages of forecasts">(.*?)</nav>', later, re.S)[0]
    assert all("scores_page=2" in h for h in re.findall(r'href="([^"]+)"', nav))
    assert "#forecasts-h" in nav


def test_profile_bad_pages_are_named(client, busy):
    for query, status, where in [("scores_page=0", 422, "scores_page"),
                                 ("forecasts_page=x", 422, "forecasts_page"),
                                 ("scores_page=3", 404, "scores_page"),
                                 ("forecasts_page=4", 404, "forecasts_page")]:
        page = client.get(f"/users/alice?{query}")
        assert page.status_code == status and where in page.get_data(as_text=True), query


def test_statements_do_not_grow_with_pages_or_rows(app, client, busy, session):
    def statements(path: str) -> int:
        client.get(path)  # caches filled, as on a running site
        with counting(app) as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    paths = ["/users/alice", "/users/alice?scores_page=2&forecasts_page=3", "/users/bob"]
    counts = [statements(p) for p in paths]
    # bob has no scores, so no page of them to read
    assert counts[1] == counts[0] and counts[2] <= counts[0], dict(zip(paths, counts))
    # A cold profile (the per-user indexes built) is still a fixed number of statements.
    alice = get_user(session, "alice")
    submit_forecast(session, busy[2], alice, probability=0.3, as_comment=False)
    session.commit()
    with counting(app) as seen:
        assert client.get("/users/alice").status_code == 200
    assert len(seen) <= counts[0] + 3
