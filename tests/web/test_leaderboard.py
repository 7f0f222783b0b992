"""The leaderboard page and its CSV download."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest

from forecasts import timeutil
from forecasts.services import leaderboard as board
from forecasts.services import questions, resolution
from forecasts.services.forecasts import submit_forecast
from forecasts.web.format import signed
from forecasts.web.leaderboard import METRIC_HELP
from tests.builders import question_data
from tests.web.conftest import add_user


def names(page) -> list[str]:
    return re.findall(r'<th scope="row">(?:<a href="/users/[^"]+">([^<]+)</a>|<span class="crowd-name">(The crowd)</span>)',
                      page.text)


def body(page) -> str:
    return page.text.split("<tbody>")[1].split("</tbody>")[0]


@pytest.fixture
def two(world, session):
    """A second resolved question that alice and bob forecast (so both have intervals),
    and carol, who forecast only that one."""
    now = timeutil.now()
    carol = add_user(session, "carol")
    second = questions.create_question(session, question_data(
        slug="strike-second", title="Second resolved question",
        open_at=timeutil.iso(now - timedelta(days=120)),
        close_at=timeutil.iso(now - timedelta(days=20))))
    for user, p in ((world["users"]["alice"], 0.3), (world["users"]["bob"], 0.6), (carol, 0.5)):
        submit_forecast(session, second, user, probability=p, at=now - timedelta(days=110))
    resolution.resolve(session, second, "no", actor="root", now=now - timedelta(days=19))
    session.commit()
    return world


def test_default_is_global_peer_with_intervals_and_a_legend(web, two, session):
    page = web.get("/leaderboard")
    assert page.status_code == 200
    rows = [a or b for a, b in names(page)]
    assert set(rows) == {"alice", "bob", "carol", "The crowd"}
    want = board.leaderboard(session, n_boot=300, seed=1)  # ranked by peer_global
    assert [r["user"] for r in want] == [r for r in rows if r != "The crowd"]
    assert want[0]["peer_global"] > want[-1]["peer_global"]
    assert 'aria-sort="descending"' in page.text
    assert "ranked by global peer score; higher is better" in page.text
    assert 'class="ibar"' in page.text and "90% interval" in page.text
    for row in want:  # every row shows its global peer score and relative Brier
        assert signed(row["peer_global"], 2) in page.text
        assert signed(row["relative_brier"], 3) in page.text
    # carol has one scored question: no interval (a dash), alice and bob have two.
    carol = body(page).split('href="/users/carol"')[1].split("</tr>")[0]
    assert '<td class="interval">' in carol and 'class="ibar"' not in carol
    alice = body(page).split('href="/users/alice"')[1].split("</tr>")[0]
    assert 'class="ibar"' in alice
    # One line per metric and a link to the help page.
    for line in METRIC_HELP.values():
        assert html.escape(line.format(prior="30")) in page.text
    assert 'href="/help/scoring"' in page.text


def test_metric_tag_minimum_and_date_filters(web, two):
    by_brier = web.get("/leaderboard?metric=brier")
    assert by_brier.status_code == 200 and 'aria-sort="ascending"' in by_brier.text
    peer = web.get("/leaderboard?metric=peer")
    assert peer.status_code == 200 and 'aria-sort="descending"' in peer.text
    assert "ranked by peer score (mean); higher is better" in peer.text
    no_crowd = web.get("/leaderboard?crowd=0")
    assert "The crowd" not in body(no_crowd)
    with_crowd = web.get("/leaderboard?crowd=0&crowd=1")
    assert "The crowd" in body(with_crowd)
    tagged = web.get("/leaderboard?tag=trade")
    assert names(tagged) == [] and "tagged trade" in tagged.text
    strict = web.get("/leaderboard?min_questions=2")
    assert "carol" not in body(strict) and "alice" in body(strict)
    assert "carol" not in body(web.get("/leaderboard?min=2"))  # the older name still works
    # The second question settled 19 days ago, the first 9 days ago (both in the past).
    later = web.get("/leaderboard?from=" + (timeutil.now() - timedelta(days=15)).date().isoformat())
    assert later.status_code == 200 and "carol" not in body(later) and "alice" in body(later)
    assert names(web.get("/leaderboard?from=2100-01-01")) == []
    earlier = web.get("/leaderboard?to=" + (timeutil.now() - timedelta(days=15)).date().isoformat())
    assert "carol" in body(earlier)


@pytest.mark.parametrize("query, where, message", [
    ("metric=vibes", "metric", "is not a metric"),
    ("metric=relative_brier", "metric", "is not a metric"),
    ("min_questions=0", "min_questions", "at least 1"),
    ("min_questions=two", "min_questions", "is not a whole number"),
    ("min_questions=%C2%B2", "min_questions", "is not a whole number"),  # a superscript two
    ("min_questions=99999999999", "min_questions", "is not a whole number"),
    ("min=two", "min", "is not a whole number"),
    ("from=yesterday", "from", "is not a date"),
    ("to=2026-13-01", "to", "is not a date"),
    ("tag=no-such-tag", "tag", "is not the tag of any question"),
])
def test_bad_filters_name_the_parameter_and_do_not_echo_it(web, two, query, where, message):
    page = web.get(f"/leaderboard?{query}")
    assert page.status_code == 400, query
    assert page.text.count('role="alert"') == 1
    alert = re.search(r'<p class="alert" role="alert">([^<]*)</p>', page.text).group(1)
    assert alert.startswith(f"{where}: ") and message in alert, alert
    bad = query.split("=", 1)[1]
    field = "min_questions" if where == "min" else where
    control = re.search(rf'<(?:input|select)[^>]*name="{field}"[^>]*>', page.text).group(0)
    assert bad not in alert and f'value="{bad}"' not in control  # nor in the form
    assert f'<option value="{bad}" selected' not in page.text
    assert quote(query) not in page.text and query not in page.text  # nor in any link
    assert names(page) == []


def test_a_crafted_value_is_never_reflected(web, two):
    marker = '"><script>zq81</script>'
    for name in ("metric", "min_questions", "from", "to", "tag"):
        page = web.get(f"/leaderboard?{name}={quote(marker)}")
        assert page.status_code == 400 and "zq81" not in page.text, name


def test_csv_download(web, two, session):
    response = web.get("/leaderboard.csv?metric=log")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="leaderboard-log.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == list(board.COLUMNS)
    want = board.leaderboard(session, metric="log", with_crowd=True, n_boot=300, seed=1)
    assert [r["user"] for r in rows] == [r["user"] for r in want]
    assert rows[0]["rank"] == "1" and float(rows[0]["interval_low"]) <= float(rows[0]["log"])
    carol = next(r for r in rows if r["user"] == "carol")
    assert carol["interval_low"] == carol["interval_high"] == ""  # one question: none
    for got, row in zip(rows, want):
        if row["peer_global"] is not None:
            assert float(got["peer_global"]) == pytest.approx(row["peer_global"], rel=1e-12)
        assert float(got["relative_brier"]) == pytest.approx(row["relative_brier"], rel=1e-12)
    for row in rows:
        for value in row.values():
            if value[:1] in ("=", "+", "-", "@"):
                float(value)  # only numbers may start with a sign
    bad = web.get("/leaderboard.csv?metric=nope")
    assert bad.status_code == 400 and "metric: is not a metric" in bad.text
    assert "nope" not in bad.text
    default = web.get("/leaderboard.csv")
    assert 'filename="leaderboard-peer_global.csv"' in default.headers["Content-Disposition"]


def test_csv_neutralises_formula_cells():
    from forecasts.services.leaderboard import leaderboard_csv

    row = {"rank": 1, "user": "=HYPERLINK(1)", "questions": 1, "brier": 0.1, "log": 0.2,
           "peer": 0.0, "peer_total": 0.0, "peer_global": 0.0, "relative_brier": -0.1,
           "coverage": 1.0, "interval": None}
    text = leaderboard_csv([row])
    assert "'=HYPERLINK(1)" in text and "-0.1" in text


def test_empty_leaderboard_says_so(web, session):
    add_user(session, "alice")
    session.commit()
    page = web.get("/leaderboard")
    assert page.status_code == 200 and "No forecaster has 1 or more scored questions" in page.text
