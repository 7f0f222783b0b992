"""The leaderboard page and its CSV download."""
from __future__ import annotations

import csv
import io
import re

from tests.web.conftest import add_user


def names(page) -> list[str]:
    return re.findall(r'<th scope="row">(?:<a href="/users/[^"]+">([^<]+)</a>|<span class="crowd-name">(The crowd)</span>)',
                      page.text)


def test_leaderboard_ranks_with_crowd_and_intervals(web, world):
    page = web.get("/leaderboard")
    assert page.status_code == 200
    rows = [a or b for a, b in names(page)]
    assert set(rows) == {"alice", "bob", "The crowd"}
    assert rows.index("alice") < rows.index("bob")  # alice forecast yes higher; it resolved yes
    assert 'class="ibar"' in page.text and "90% interval" in page.text
    assert 'aria-sort="ascending"' in page.text


def test_metric_tag_and_minimum_filters(web, world):
    peer = web.get("/leaderboard?metric=peer")
    assert peer.status_code == 200 and 'aria-sort="descending"' in peer.text
    assert [a for a, _ in names(peer) if a][:2] == ["alice", "bob"]
    assert "ranked by peer score (mean); higher is better" in peer.text
    no_crowd = web.get("/leaderboard?crowd=0")
    assert "The crowd" not in no_crowd.text
    with_crowd = web.get("/leaderboard?crowd=0&crowd=1")
    assert "The crowd" in with_crowd.text
    tagged = web.get("/leaderboard?tag=trade")
    assert names(tagged) == [] and "tagged trade" in tagged.text
    strict = web.get("/leaderboard?min=2")
    assert "alice" not in strict.text.split("<tbody>")[1]


def test_bad_filters_are_reported_in_words(web, world):
    for query, message in (("metric=vibes", "is not a metric"), ("min=0", "at least 1"),
                           ("min=two", "is not a whole number")):
        page = web.get(f"/leaderboard?{query}")
        assert page.status_code == 400 and message in page.text, query


def test_csv_download(web, world, session):
    response = web.get("/leaderboard.csv?metric=log")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="leaderboard-log.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["user"] for r in rows] == ["alice", "bob", "crowd"]
    assert rows[0]["rank"] == "1" and float(rows[0]["interval_low"]) <= float(rows[0]["log"])
    for row in rows:
        for value in row.values():
            if value[:1] in ("=", "+", "-", "@"):
                float(value)  # only numbers may start with a sign
    assert web.get("/leaderboard.csv?metric=nope").status_code == 422


def test_csv_neutralises_formula_cells():
    from forecasts.services.leaderboard import leaderboard_csv

    row = {"rank": 1, "user": "=HYPERLINK(1)", "questions": 1, "brier": 0.1, "log": 0.2,
           "peer": 0.0, "peer_total": 0.0, "coverage": 1.0, "interval": [0.0, 0.2]}
    assert "'=HYPERLINK(1)" in leaderboard_csv([row])


def test_empty_leaderboard_says_so(web, session):
    add_user(session, "alice")
    session.commit()
    page = web.get("/leaderboard")
    assert page.status_code == 200 and "No forecaster has 1 or more scored questions" in page.text
