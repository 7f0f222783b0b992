"""The track record service against a plain-Python reading of the stored rows and
forecasts: rolling means, the horizon split, the AUC (pairwise), calibration counts
(and their agreement with the calibration chart), the filters and the errors."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts.errors import InvalidInput, NotFound
from forecasts.models import (CrowdScore, Forecast, Question, QuestionScore, Resolution,
                              Tournament, TournamentQuestion, User)
from forecasts.services import calibration, leaderboard
from forecasts.services.resolution import effective_close
from forecasts.services.track_record import ROLLING_DAYS, track_record
from tests.track_world import TOURNAMENT, build

BOOT = {"n_boot": 300, "seed": 5}
EDGES_DAYS = (7, 28, 91)


@pytest.fixture
def tw(session):
    return build(session)


def stored(database, username, keep=lambda q: True):
    """Per scored question of the user (by effective close, id): (slug, T1, peer, brier,
    crowd brier or None, question, resolution), read row by row."""
    with database.session() as s:
        user = s.scalars(select(User).where(User.username == username)).one()
        out = []
        for score in s.scalars(select(QuestionScore).where(QuestionScore.user_id == user.id)):
            q = s.get(Question, score.question_id)
            res = s.scalars(select(Resolution).where(Resolution.question_id == q.id,
                                                     Resolution.superseded_at.is_(None))).one()
            crowd = s.get(CrowdScore, q.id)
            if keep(q):
                out.append((q.slug, effective_close(q, res), score.peer, score.brier,
                            None if crowd is None else crowd.brier, q, res))
        tournament = s.scalars(select(Tournament).where(Tournament.slug == TOURNAMENT)).one()
        cup = set(s.scalars(select(TournamentQuestion.question_id).where(
            TournamentQuestion.tournament_id == tournament.id)))
        for row in out:  # touch what the checks read while the session is open
            row[5].options, row[5].tags, row[5].kind, row[5].open_at
        forecasts = {row[5].id: sorted(s.scalars(select(Forecast).where(
            Forecast.user_id == user.id, Forecast.question_id == row[5].id)),
            key=lambda f: (f.at, f.id)) for row in out}
    out.sort(key=lambda r: (r[1], r[5].id))
    return out, forecasts, cup


def rolling(times, values, days):
    means = []
    for t in times:
        inside = [v for s, v in zip(times, values) if t - timedelta(days=days) < s <= t]
        means.append(sum(inside) / len(inside))
    return means


def weighted_forecasts(rows, forecasts):
    """(question id, kind, p vector, outcome index, weight, horizon days) of each standing
    forecast, its weight its share of the user's window [first at, T1)."""
    out = []
    for slug, t1, _peer, _brier, _crowd, q, res in rows:
        scored = [f for f in forecasts[q.id] if q.open_at <= f.at < t1]
        if not scored:
            continue
        window = (t1 - scored[0].at).total_seconds()
        options = q.options
        o = options.index(res.outcome)
        for i, f in enumerate(scored):
            until = scored[i + 1].at if i + 1 < len(scored) else t1
            w = (until - f.at).total_seconds() / window
            if w <= 0:
                continue
            p = f.probabilities
            out.append((q.id, q.kind, p, o, w, (t1 - f.at).total_seconds() / 86400))
    return out


def brier(p, o):
    return sum((pk - (k == o)) ** 2 for k, pk in enumerate(p))


def test_series_are_the_stored_scores_with_90_day_rolling_means(database, session, tw):
    record = track_record(session, "alice", **BOOT)
    rows, _, _ = stored(database, "alice")
    assert [p.question for p in record.series] == [r[0] for r in rows]
    assert len(rows) == len(tw.slugs)
    times = [r[1] for r in rows]
    assert [p.time for p in record.series] == times
    assert [p.peer for p in record.series] == pytest.approx([r[2] for r in rows])
    assert [p.brier for p in record.series] == pytest.approx([r[3] for r in rows])
    relative = [r[3] - r[4] for r in rows]
    assert [p.relative_brier for p in record.series] == pytest.approx(relative)
    assert [p.peer_mean for p in record.series] == pytest.approx(
        rolling(times, [r[2] for r in rows], ROLLING_DAYS))
    assert [p.brier_mean for p in record.series] == pytest.approx(
        rolling(times, [r[3] for r in rows], ROLLING_DAYS))
    assert [p.relative_brier_mean for p in record.series] == pytest.approx(
        rolling(times, relative, ROLLING_DAYS))
    # The window does not hold every question: the means are not cumulative ones.
    assert max(p.window_questions for p in record.series) < len(rows)
    assert ROLLING_DAYS == 90


def test_relative_brier_is_the_leaderboards(session, tw):
    record = track_record(session, "alice", **BOOT)
    row = next(r for r in leaderboard.leaderboard(session) if r["user"] == "alice")
    values = [p.relative_brier for p in record.series]
    assert sum(values) / len(values) == pytest.approx(row["relative_brier"])


def test_horizon_split_matches_a_forecast_by_forecast_count(database, session, tw):
    record = track_record(session, "alice", **BOOT)
    rows, forecasts, _ = stored(database, "alice")
    points = weighted_forecasts(rows, forecasts)
    assert any(f.at == g.at for fs in forecasts.values() for f, g in zip(fs, fs[1:]))
    expected = []
    for b in range(4):
        lo = 0 if b == 0 else EDGES_DAYS[b - 1]
        hi = EDGES_DAYS[b] if b < 3 else float("inf")
        inside = [x for x in points if lo <= x[5] < hi]
        total = sum(x[4] for x in inside)
        mean = sum(x[4] * brier(x[2], x[3]) for x in inside) / total if inside else None
        expected.append((mean, len(inside), len({x[0] for x in inside})))
    got = [(h.mean_brier, h.forecasts, h.questions) for h in record.horizons]
    assert [g[1:] for g in got] == [e[1:] for e in expected]
    for (gm, *_), (em, *_) in zip(got, expected):
        assert gm == pytest.approx(em) if em is not None else gm is None
    assert [h.label for h in record.horizons] == ["< 1 week", "1–4 weeks", "1–3 months",
                                                  "> 3 months"]
    assert sum(h.forecasts for h in record.horizons) == len(points)
    # Multiple-choice forecasts are in the split with the all-options Brier.
    assert any(x[1] == "multiple_choice" for x in points)


def pairwise_auc(points):
    num = den = 0.0
    for a in points:
        for b in points:
            if a[3] == 1 and b[3] == 0:
                w = a[4] * b[4]
                den += w
                num += w * (1.0 if a[2][1] > b[2][1] else 0.5 if a[2][1] == b[2][1] else 0.0)
    return num / den


def test_discrimination_is_the_pairwise_weighted_auc_of_binary_forecasts(database, session, tw):
    record = track_record(session, "alice", **BOOT)
    rows, forecasts, _ = stored(database, "alice")
    binary = [x for x in weighted_forecasts(rows, forecasts) if x[1] == "binary"]
    d = record.discrimination
    assert d is not None
    assert d.auc == pytest.approx(pairwise_auc(binary))
    assert d.forecasts == len(binary) and d.questions == len({x[0] for x in binary})
    assert d.low <= d.auc <= d.high and d.level == 0.9
    assert 0 <= d.low < d.high <= 1
    again = track_record(session, "alice", **BOOT).discrimination
    assert (again.low, again.high) == (d.low, d.high)  # seeded
    other = track_record(session, "alice", n_boot=300, seed=6).discrimination
    assert (other.low, other.high) != (d.low, d.high)


def test_discrimination_is_none_without_both_outcomes(database, session, tw):
    rows, _, _ = stored(database, "alice", keep=lambda q: q.kind == "binary")
    yes = [r for r in rows if r[6].outcome == "yes"]
    assert yes and len(yes) < len(rows)
    # A date range holding only questions resolved yes (or none at all).
    first = yes[0][1]
    only = [r for r in rows if r[1] == first]
    record = track_record(session, "alice", start=first, end=first + timedelta(seconds=1),
                          **BOOT)
    assert [p.question for p in record.series] == [r[0] for r in only]
    assert record.discrimination is None


def test_calibration_counts_agree_with_the_calibration_chart(database, session, tw):
    record = track_record(session, "alice", **BOOT)
    chart = calibration.calibration(session, "alice")
    assert [(b.low_edge, b.high_edge, b.forecasts) for b in record.calibration] == [
        (b["low_edge"], b["high_edge"], b["count"]) for b in chart["bins"]]
    for mine, theirs in zip(record.calibration, chart["bins"]):
        assert mine.weight == pytest.approx(theirs["weight"])
        if theirs["count"]:
            assert mine.mean_forecast == pytest.approx(theirs["mean_forecast"])
            assert mine.observed == pytest.approx(theirs["observed"])
    rows, forecasts, _ = stored(database, "alice")
    binary = [x for x in weighted_forecasts(rows, forecasts) if x[1] == "binary"]
    for i, b in enumerate(record.calibration):
        inside = [x for x in binary if min(int(x[2][1] * 10 + 1e-9), 9) == i]
        assert (b.forecasts, b.questions) == (len(inside), len({x[0] for x in inside})), i
    assert sum(b.questions for b in record.calibration) >= chart["questions"]


def test_filters_by_tag_tournament_and_dates(database, session, tw):
    everything = [p.question for p in track_record(session, "alice", **BOOT).series]
    tagged = track_record(session, "alice", tag=" Tracked ", **BOOT)
    assert [p.question for p in tagged.series] == [s for s in everything if s in tw.tagged]
    assert tagged.filters["tag"] == "tracked"
    cup = track_record(session, "alice", tournament=TOURNAMENT, **BOOT)
    assert [p.question for p in cup.series] == [s for s in everything if s in tw.in_tournament]
    both = track_record(session, "alice", tag="tracked", tournament=TOURNAMENT, **BOOT)
    assert [p.question for p in both.series] == [
        s for s in everything if s in tw.tagged and s in tw.in_tournament]
    rows, _, _ = stored(database, "alice")
    start, end = rows[3][1], rows[9][1]  # from is inclusive, to exclusive
    dated = track_record(session, "alice", start=start, end=end, **BOOT)
    assert [p.question for p in dated.series] == [r[0] for r in rows[3:9]]
    # The forecast figures follow the filter too: fewer questions behind them.
    assert sum(h.questions for h in dated.horizons) < sum(
        h.questions for h in track_record(session, "alice", **BOOT).horizons)
    assert {p.question for p in track_record(session, "alice", start=start, **BOOT).series} \
        == {r[0] for r in rows[3:]}


def test_a_user_without_scored_questions_has_an_empty_record(session, tw):
    record = track_record(session, "dora", **BOOT)
    assert record.series == [] and record.discrimination is None and record.questions == 0
    assert [h.forecasts for h in record.horizons] == [0, 0, 0, 0]
    assert all(b.forecasts == 0 and b.mean_forecast is None for b in record.calibration)


@pytest.mark.parametrize("arguments, error, where", [
    ({"tag": "no-such-tag"}, InvalidInput, "tag"),
    ({"tournament": "no-such-cup"}, NotFound, "tournament"),
    ({"start": "late", "end": "early"}, InvalidInput, "from"),
    ({"start": "early", "end": "early"}, InvalidInput, "from"),
])
def test_bad_filters_are_named(session, tw, arguments, error, where):
    times = {"early": tw.now - timedelta(days=300), "late": tw.now - timedelta(days=30)}
    arguments = {k: times.get(v, v) for k, v in arguments.items()}
    with pytest.raises(error) as caught:
        track_record(session, "alice", **arguments, **BOOT)
    assert caught.value.where == where
    assert caught.value.message == {
        "tag": "is not the tag of any question",
        "tournament": "is not the slug of any tournament",
        "from": "the start of the date range must be before its end"}[where]


def test_an_unknown_user_is_not_found(session, tw):
    with pytest.raises(NotFound):
        track_record(session, "nobody", **BOOT)
