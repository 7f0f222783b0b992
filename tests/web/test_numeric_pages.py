"""Numeric and date questions on the web: the quantile form without JavaScript, the
crowd's median and interval on the page, the hidden crowd, the list and the chart."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select

from forecasts import cdf as cdf_codec, timeutil
from forecasts.models import Forecast
from forecasts.services import questions, resolution
from forecasts.services.forecasts import submit_forecast
from forecasts.services.numeric_view import quantiles
from tests.web.conftest import add_user, around_now


def numeric_data(**changes):
    data = {"slug": "gdp", "title": "GDP growth in 2027?", "kind": "numeric",
            "range": {"min": -5, "max": 15}, "open_lower": True, "open_upper": False,
            "unit": "%", "hide_crowd_until_forecast": False, **around_now()}
    data.update(changes)
    return data


def date_data(**changes):
    data = {"slug": "treaty", "title": "When is the treaty signed?", "kind": "date",
            "range": {"min": "2027-01-01T00:00:00Z", "max": "2029-01-01T00:00:00Z"},
            "hide_crowd_until_forecast": False, **around_now()}
    data.update(changes)
    return data


@pytest.fixture
def numeric_world(session):
    users = {name: add_user(session, name) for name in ("alice", "bob", "carol")}
    q = questions.create_question(session, numeric_data())
    d = questions.create_question(session, date_data())
    session.commit()
    return {"users": users, "numeric": q, "date": d}


def stored(session, question):
    return session.scalars(select(Forecast).where(Forecast.question_id == question.id)
                           .order_by(Forecast.id)).all()


def epoch(day: str) -> float:
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()


def test_quantiles_without_js_store_the_converters_cdf(web, session, numeric_world):
    web.login("alice")
    page = web.get("/questions/gdp").get_data(as_text=True)
    for name in ("q10", "q25", "q50", "q75", "q90"):
        assert f'name="{name}"' in page
    response = web.post("/questions/gdp", {"q10": "0.5", "q50": "2.25", "q90": "4", "q75": "3"},
                        form_page="/questions/gdp")
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = stored(session, numeric_world["numeric"])
    expected = cdf_codec.quantiles_to_cdf({0.1: 0.5, 0.5: 2.25, 0.75: 3.0, 0.9: 4.0}, -5, 15,
                                          True, False)
    assert len(row.cdf) == 804 and np.array_equal(row.cdf_values, expected)  # snapped
    # The form comes back holding the forecast's own quantiles, within a grid step.
    page = web.get("/questions/gdp").get_data(as_text=True)
    typed = float(re.search(r'name="q50"[^>]*value="([^"]*)"', page).group(1))
    assert abs(typed - 2.25) <= 20 / 200


def test_date_quantiles_are_seconds_since_the_epoch(web, session, numeric_world):
    web.login("bob")
    response = web.post("/questions/treaty", {"q10": "2027-03-01", "q50": "2027-09-15",
                                              "q90": "2028-06-30"}, form_page="/questions/treaty")
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = stored(session, numeric_world["date"])
    d = numeric_world["date"]
    points = {0.1: epoch("2027-03-01"), 0.5: epoch("2027-09-15"), 0.9: epoch("2028-06-30")}
    expected = cdf_codec.quantiles_to_cdf(points, d.range_min, d.range_max, False, False)
    assert len(row.cdf) == 804 and np.array_equal(row.cdf_values, expected)
    page = web.get("/questions/treaty").get_data(as_text=True)
    assert 'type="date"' in page and "2027-09-1" in page  # the median, as a date


@pytest.mark.parametrize("fields, field, words", [
    ({"q50": "2", "q90": "4"}, "q10", "enter the 10th percentile"),
    ({"q10": "1", "q50": "", "q90": "4"}, "q50", "enter the median"),
    ({"q10": "1", "q50": "abc", "q90": "4"}, "q50", "is not a number"),
    ({"q10": "1", "q50": "0.5", "q90": "4"}, "q50", "must be above"),
    ({"q10": "1", "q50": "2", "q90": "2"}, "q90", "must be above"),
    ({"q10": "1", "q50": "2", "q75": "1.5", "q90": "4"}, "q75", "must be above"),
    ({"q10": "1", "q50": "2", "q90": "15"}, "q90", "within the question's range"),
    ({"q10": "1", "q50": "2", "q90": "16"}, "q90", "within the question's range"),
    ({"q10": "-6", "q50": "2", "q90": "4"}, "q10", "within the question's range"),
    ({"q10": "1", "q50": "inf", "q90": "4"}, "q50", "finite"),
])
def test_bad_quantiles_name_their_field_and_store_nothing(web, session, numeric_world, fields,
                                                          field, words):
    web.login("alice")
    response = web.post("/questions/gdp", fields, form_page="/questions/gdp")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert error and words in error.group(1).replace("&#39;", "'"), page[-3000:]
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page)
    assert session.scalar(select(func.count()).select_from(Forecast)) == 0


def test_a_bad_date_is_named(web, session, numeric_world):
    web.login("alice")
    response = web.post("/questions/treaty", {"q10": "2027-13-01", "q50": "2027-09-15",
                                              "q90": "2028-06-30"}, form_page="/questions/treaty")
    assert response.status_code == 422
    assert 'id="q10-error"' in response.get_data(as_text=True)
    # Before the range's closed lower bound.
    response = web.post("/questions/treaty", {"q10": "2026-12-01", "q50": "2027-09-15",
                                              "q90": "2028-06-30"}, form_page="/questions/treaty")
    assert response.status_code == 422 and 'id="q10-error"' in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Forecast)) == 0


def crowd_figures(session, question, users, before=None):
    """The crowd's q10, median and q90 the plain way: each user's latest CDF (made before
    `before`), their mean, then the first grid crossing of p, interpolated."""
    latest = {}
    for f in sorted(stored(session, question), key=lambda f: (f.at, f.id)):
        if before is None or f.at < before:
            latest[f.user_id] = f.cdf_values
    mean = np.mean(list(latest.values()), axis=0)
    x = cdf_codec.grid(question.range_min, question.range_max)
    out = []
    for p in (0.1, 0.5, 0.9):
        k = next(i for i, v in enumerate(mean) if v >= p)
        out.append(x[k - 1] + (p - mean[k - 1]) / (mean[k] - mean[k - 1]) * (x[k] - x[k - 1]))
    return out


def test_page_shows_the_crowd_median_and_interval(web, session, numeric_world):
    q, users = numeric_world["numeric"], numeric_world["users"]
    now = timeutil.now()
    for name, (lo, mid, hi), days in (("alice", (0, 2, 5), 9), ("bob", (1, 4, 9), 8),
                                      ("alice", (-1, 1, 3), 7), ("carol", (3, 6, 12), 6)):
        submit_forecast(session, q, users[name], quantiles={0.1: lo, 0.5: mid, 0.9: hi},
                        at=now - timedelta(days=days))
    session.commit()
    low, median, high = crowd_figures(session, q, users)
    page = web.get("/questions/gdp").get_data(as_text=True)
    assert f'<span class="big" id="crowd-median">{median:,.2f} %</span>' in page
    assert f"{low:,.2f} % to {high:,.2f} %" in page
    assert "the mean distribution of 3 forecasters" in page
    # The open lower end's mass, the mean of the standing F_0; the closed upper end none.
    standing = {f.user_id: f.cdf_values[0] for f in sorted(stored(session, q), key=lambda f: f.at)}
    below = np.mean(list(standing.values()))
    assert f'<span id="crowd-below">{below * 100:.1f}% chance of below -5.00 %.</span>' in page
    assert 'id="crowd-above"' not in page
    assert 'class="crowd-density"' in page and "<svg" in page
    # Four changes in the table, newest first, with their forecaster counts.
    rows = re.findall(r"<tr><td>[^<]*</td><td class=\"num\">([^<]*)</td><td class=\"num\">"
                      r"([^<]*)</td><td class=\"num\">([^<]*)</td><td class=\"num\">(\d+)</td>", page)
    assert [int(r[3]) for r in rows] == [3, 2, 2, 1]
    assert rows[0][1] == f"{median:,.2f} %"
    # The list shows the same median; the chart draws.
    listing = web.get("/").get_data(as_text=True)
    assert f'<span class="crowd-value numeric-median">{median:,.2f} %</span>' in listing
    svg = web.get("/questions/gdp/crowd.svg")
    assert svg.status_code == 200 and "<polyline" in svg.get_data(as_text=True)


def test_own_distribution_over_the_crowd_and_the_outcome(web, session, numeric_world):
    q, users = numeric_world["numeric"], numeric_world["users"]
    submit_forecast(session, q, users["bob"], quantiles={0.1: 1, 0.5: 4, 0.9: 9})
    session.commit()
    web.login("alice")
    web.post("/questions/gdp", {"q10": "0", "q50": "2", "q90": "5", "rationale": "Slow year."},
             form_page="/questions/gdp")
    page = web.get("/questions/gdp").get_data(as_text=True)
    # The rationale joins the discussion with the forecast in words.
    assert re.search(r'with a forecast of median [\d.]+ % \(80%: ', page)
    assert 'class="my-density"' in page and 'class="crowd-density"' in page
    assert "Dashed: yours, median" in page
    # The list shows your own median (plain: the first grid crossing of 0.5, interpolated).
    [mine] = [f for f in stored(session, q) if f.user_id == users["alice"].id]
    f, x = mine.cdf_values, cdf_codec.grid(-5, 15)
    k = next(i for i, v in enumerate(f) if v >= 0.5)
    median = x[k - 1] + (0.5 - f[k - 1]) / (f[k] - f[k - 1]) * (x[k] - x[k - 1])
    assert f'numeric-mine">{median:,.2f} %</span>' in web.get("/").get_data(as_text=True)
    # Your forecasts list the median and interval of each.
    assert re.search(r'<span class="value">median [\d.]+ % \(80%: [-\d.]+ % to [\d.]+ %\)</span>', page)


def test_resolved_question_marks_the_outcome(web, session, numeric_world):
    q, users = numeric_world["numeric"], numeric_world["users"]
    now = timeutil.now()
    submit_forecast(session, q, users["bob"], quantiles={0.1: 1, 0.5: 4, 0.9: 9},
                    at=now - timedelta(days=3))
    # Made after the outcome was known: shown as late, not part of the crowd.
    submit_forecast(session, q, users["alice"], quantiles={0.1: 10, 0.5: 12, 0.9: 14},
                    at=now - timedelta(days=1.5))
    q.close_at = now - timedelta(days=1)
    session.commit()
    resolution.resolve(session, q, "3.5", actor="root", known_at=now - timedelta(days=2), now=now)
    session.commit()
    page = web.get("/questions/gdp")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    low, median, high = crowd_figures(session, q, users, before=now - timedelta(days=2))
    assert f'id="crowd-median">{median:,.2f} %<' in text and "1 forecast was made after" in text
    assert f'numeric-median">{median:,.2f} %<' in web.get("/").get_data(as_text=True)
    assert "Outcome: <strong class=\"outcome\">3.50 %</strong>" in text
    assert 'class="outcome"' in text and "outcome 3.50 %" in text
    assert web.get("/questions/gdp/crowd.svg").status_code == 200
    assert web.get("/").status_code == 200


def test_hidden_crowd_until_the_viewer_forecasts(web, session, numeric_world):
    users = numeric_world["users"]
    q = questions.create_question(session, numeric_data(slug="hidden-gdp",
                                                        hide_crowd_until_forecast=True))
    submit_forecast(session, q, users["bob"], quantiles={0.1: 1, 0.5: 4, 0.9: 9})
    session.commit()
    web.login("alice")
    page = web.get("/questions/hidden-gdp").get_data(as_text=True)
    assert 'id="crowd-hidden"' in page
    assert "crowd-median" not in page and "crowd-density" not in page
    assert web.get("/questions/hidden-gdp/crowd.svg").status_code == 404
    assert "numeric-median" not in web.get("/").get_data(as_text=True).split("hidden-gdp")[1][:1500]
    web.post("/questions/hidden-gdp", {"q10": "0", "q50": "2", "q90": "5"},
             form_page="/questions/hidden-gdp")
    page = web.get("/questions/hidden-gdp").get_data(as_text=True)
    assert 'id="crowd-median"' in page and "crowd-density" in page


def test_quantile_function_matches_a_scalar_walk():
    rng = np.random.default_rng(3)
    lo, hi = -2.0, 7.0
    x = cdf_codec.grid(lo, hi)
    rows = []
    for _ in range(20):
        qs = np.sort(rng.uniform(lo + 0.5, hi - 0.5, 3))
        if np.any(np.diff(qs) < 0.1):
            continue
        rows.append(cdf_codec.quantiles_to_cdf(dict(zip((0.1, 0.5, 0.9), qs)), lo, hi, True, True))
    got = quantiles(np.array(rows), lo, hi, (0.0005, 0.1, 0.5, 0.9, 0.9995))
    for f, values in zip(rows, got):
        for p, v in zip((0.0005, 0.1, 0.5, 0.9, 0.9995), values):
            if p <= f[0]:
                assert v == lo
            elif p > f[-1]:
                assert v == hi
            else:
                k = next(i for i in range(201) if f[i] >= p)
                assert v == pytest.approx(x[k - 1] + (p - f[k - 1]) / (f[k] - f[k - 1]) * (x[k] - x[k - 1]))
                assert np.interp(v, x, f) == pytest.approx(p)


def test_statements_do_not_grow_with_the_forecasts(app, web, session, numeric_world):
    """No N+1 on a numeric question's pages (as tests/test_query_budget.py for the others)."""
    q = numeric_world["numeric"]
    now = timeutil.now()

    def add(names, hours):
        for i, name in enumerate(names):
            user = add_user(session, name)
            for step in range(2):
                submit_forecast(session, q, user, quantiles={0.1: i % 5, 0.5: 5 + i % 3, 0.9: 10},
                                rationale=f"{name} {step}",
                                at=now - timedelta(hours=hours - i - step / 2))
        session.commit()

    def measure():
        out = {}
        for path in ("/questions/gdp", "/questions/gdp/crowd.svg", "/"):
            counts = []
            for _ in range(2):
                with app.extensions["forecasts_db"].statements() as seen:
                    assert web.get(path).status_code == 200
                counts.append(len(seen))
            out[path] = counts
        return out

    add(["u0", "u1"], 100)
    web.login("alice")
    small = measure()
    add([f"v{i}" for i in range(15)], 50)
    assert measure() == small


def test_list_histories_skip_numeric_questions(app, session, numeric_world):
    """Pages listing questions with their crowd history (My forecasts) get an empty one
    for a numeric question, not an error: its crowd is no list of option probabilities."""
    from forecasts.services.question_stats import stats_of
    from forecasts.web.question_page import unsettled_histories

    q = numeric_world["numeric"]
    submit_forecast(session, q, numeric_world["users"]["bob"], quantiles={0.1: 1, 0.5: 4, 0.9: 9})
    session.commit()
    with app.test_request_context():
        found = unsettled_histories(session, [(q, stats_of(session, q))])
    assert found[q.id].points == [] and found[q.id].total == 0


def test_date_crowd_median_is_a_date(web, session, numeric_world):
    d, users = numeric_world["date"], numeric_world["users"]
    for name, days in (("alice", ("2027-03-01", "2027-08-01", "2028-02-01")),
                       ("bob", ("2027-06-01", "2027-12-01", "2028-09-01"))):
        submit_forecast(session, d, users[name],
                        quantiles=dict(zip((0.1, 0.5, 0.9), map(epoch, days))))
    session.commit()
    low, median, high = crowd_figures(session, d, users)

    def day(seconds):
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d")

    page = web.get("/questions/treaty").get_data(as_text=True)
    assert f'id="crowd-median">{day(median)}<' in page
    assert f"{day(low)} to {day(high)}" in page
    assert web.get("/questions/treaty/crowd.svg").status_code == 200


def test_one_new_forecast_extends_the_cached_crowd_as_a_recomputation_would(session,
                                                                             numeric_world):
    from forecasts.services import numeric_view
    from forecasts.services.question_stats import stats_of

    q, users = numeric_world["numeric"], numeric_world["users"]
    now = timeutil.now()
    rng = np.random.default_rng(5)
    crowd = numeric_view.numeric_crowd(session, q, None, recent=5)
    for i, name in enumerate(["alice", "bob", "alice", "carol", "carol", "bob", "alice"]):
        lo = float(rng.uniform(-4, 3))
        submit_forecast(session, q, users[name], quantiles={0.1: lo, 0.5: lo + 2, 0.9: lo + 6},
                        at=now - timedelta(hours=10 - i))
        session.commit()
        grown = numeric_view.extended(session, q, crowd, stats_of(session, q), recent=5)
        fresh = numeric_view.numeric_crowd(session, q, None, recent=5)
        assert grown is not None
        assert np.allclose(grown.cdf, fresh.cdf, atol=1e-12)
        assert (grown.forecasters, grown.total, grown.forecasts) == \
            (fresh.forecasters, fresh.total, fresh.forecasts)
        assert [t for t, _, _ in grown.recent] == [t for t, _, _ in fresh.recent]
        assert np.allclose([b for _, b, _ in grown.recent], [b for _, b, _ in fresh.recent])
        assert [n for _, _, n in grown.recent] == [n for _, _, n in fresh.recent]
        crowd = grown
    # Nothing changed: the same crowd; two new forecasts: no extension.
    assert numeric_view.extended(session, q, crowd, stats_of(session, q), recent=5) is crowd
    for name in ("alice", "bob"):
        submit_forecast(session, q, users[name], quantiles={0.1: 0, 0.5: 1, 0.9: 2})
    session.commit()
    assert numeric_view.extended(session, q, crowd, stats_of(session, q), recent=5) is None


def test_the_page_after_each_forecast_shows_the_plain_median(web, session, numeric_world,
                                                             monkeypatch):
    from forecasts.services import numeric_view

    q, users = numeric_world["numeric"], numeric_world["users"]
    computed = []
    full = numeric_view.numeric_crowd
    monkeypatch.setattr(numeric_view, "numeric_crowd",
                        lambda *a, **k: computed.append(1) or full(*a, **k))
    for i, name in enumerate(["alice", "bob", "alice", "carol"]):
        submit_forecast(session, q, users[name], quantiles={0.1: i - 2, 0.5: i, 0.9: 2 * i + 3})
        session.commit()
        _, median, _ = crowd_figures(session, q, users)
        page = web.get("/questions/gdp").get_data(as_text=True)
        assert f'id="crowd-median">{median:,.2f} %<' in page
    assert len(computed) == 1  # then extended from the cache, one forecast at a time


def test_an_annulled_numeric_question_keeps_its_crowd_and_marks_no_outcome(web, session,
                                                                           numeric_world):
    q, users = numeric_world["numeric"], numeric_world["users"]
    submit_forecast(session, q, users["bob"], quantiles={0.1: 1, 0.5: 4, 0.9: 9})
    session.commit()
    resolution.annul(session, q, "the series was discontinued", actor="root")
    session.commit()
    page = web.get("/questions/gdp").get_data(as_text=True)
    _, median, _ = crowd_figures(session, q, users)
    assert "Annulled" in page and f'id="crowd-median">{median:,.2f} %<' in page
    assert 'class="outcome"' not in page.split('class="density-chart"')[1].split("</svg>")[0]
    assert web.get("/questions/gdp/crowd.svg").status_code == 200
    assert web.get("/").status_code == 200


def test_my_forecasts_lists_a_numeric_forecast_and_reaffirms_it(web, session, numeric_world):
    q = numeric_world["numeric"]
    cdf = cdf_codec.quantiles_to_cdf({0.1: 0.5, 0.5: 2.0, 0.9: 4.0}, -5, 15, True, False)
    submit_forecast(session, q, numeric_world["users"]["alice"], cdf=cdf,
                    at=timeutil.now() - timedelta(days=3))
    session.commit()
    web.login("alice")
    page = web.get("/my/forecasts")
    assert page.status_code == 200, page.text
    row = re.search(r"<tr[^>]*>\s*<td><a href=\"/questions/gdp\">.*?</tr>", page.text, re.S).group(0)
    assert "3 days ago" in row and "%" in row
    web.post("/questions/gdp/reaffirm", form_page="/my/forecasts")
    session.expire_all()
    rows = stored(session, q)
    assert len(rows) == 2 and rows[1].cdf == rows[0].cdf
