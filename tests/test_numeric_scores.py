"""Numeric and date questions in the product (SPEC section 11): the rescore path stores
what scoring.score_numeric gives on the stored CDFs and what a plain-Python reading of
the rows gives; `forecasts scores` carries it; the reference cases come out of the CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select

import scoring
from forecasts.models import (CrowdScore, Forecast, Question, QuestionScore, QuestionScoreBlock,
                              User)
from forecasts.numeric_inputs import numeric_inputs
from forecasts.queries import SCORE_RECORD
from tests import numeric_world as w
from tests.scoring import numeric_reference as ref

TOL = 1e-9
# The reference's hand values are of exact CDFs, and stored CDFs are the given values
# exactly (forecasts.cdf: k/200 is kept in float64), so the CLI meets them to 1e-9.
STORED_TOL = {"crps": TOL, "log": TOL, "peer": TOL, "coverage": TOL}


def json_out(runner, *args):
    result = runner(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_stored_scores_equal_the_engine_and_a_plain_recomputation(database):
    slugs = w.scored_world(database)
    with database.session() as session:
        qs, plain_q, plain_f = w.plain_inputs(session, slugs)
        stored = {(r.question_id, r.user_id): r for r in session.scalars(select(QuestionScore))}
        crowd = {r.question_id: r for r in session.scalars(select(CrowdScore))}
        # The engine on arrays built here, not through numeric_inputs.
        engine = scoring.score_numeric(
            scoring.NumericQuestions(
                open_at=np.array(plain_q["open_at"], np.int64),
                close_at=np.array(plain_q["close_at"], np.int64),
                end_at=np.array(plain_q["end_at"], np.int64),
                outcome=np.array(plain_q["outcome"]), range_min=np.array(plain_q["range_min"]),
                range_max=np.array(plain_q["range_max"])),
            scoring.NumericForecasts(question=np.array(plain_f["question"]),
                                     user=np.array(plain_f["user"]),
                                     at=np.array(plain_f["at"], np.int64),
                                     cdf=np.array(plain_f["cdf"])))
    plain = ref.score_numeric(plain_q, plain_f)
    assert len(stored) == len(engine.user) == len(plain["rows"]) == 12  # 4 users x 3 questions
    for i in range(len(engine.user)):
        row = stored[(qs[engine.question[i]].id, int(engine.user[i]))]
        assert row.brier is None and row.rps is None
        for name in ("crps", "log", "peer", "coverage"):
            assert getattr(row, name) == pytest.approx(getattr(engine, name)[i], abs=TOL, rel=TOL)
    for (qi, user), values in plain["rows"].items():
        row = stored[(qs[qi].id, user)]
        for name, value in values.items():
            assert getattr(row, name) == pytest.approx(value, abs=TOL, rel=TOL), (qi, user, name)
    for qi, values in plain["crowd"].items():
        row = crowd[qs[qi].id]
        assert row.brier is None and row.rps is None
        assert row.crps == pytest.approx(values["crps"], abs=TOL, rel=TOL)
        assert row.log == pytest.approx(values["log"], abs=TOL, rel=TOL)


def test_numeric_inputs_read_the_stored_cdfs_exactly(database):
    w.scored_world(database)
    with database.session() as session:
        inputs = numeric_inputs(session)
        rows = session.execute(select(QuestionScore.question_id).distinct()).all()
        assert len(inputs.question_id) == len(rows) == 3
        forecasts = session.execute(select(Forecast).order_by(Forecast.id)).scalars().all()
        assert inputs.forecast_id.tolist() == [f.id for f in forecasts]
        assert np.array_equal(np.asarray(inputs.forecasts.cdf, np.float64),
                              np.array([f.cdf_values for f in forecasts]))


def test_blocks_carry_crps_and_no_brier_for_numeric_questions(database):
    w.scored_world(database)
    with database.session() as session:
        for qid, data in session.execute(select(QuestionScoreBlock.question_id,
                                                QuestionScoreBlock.data)):
            records = np.frombuffer(data, SCORE_RECORD)
            rows = session.execute(select(QuestionScore.user_id, QuestionScore.crps,
                                          QuestionScore.log, QuestionScore.peer,
                                          QuestionScore.coverage)
                                   .where(QuestionScore.question_id == qid)
                                   .order_by(QuestionScore.user_id)).all()
            assert np.isnan(records["brier"]).all()
            assert records["user_id"].tolist() == [r[0] for r in rows]
            for j, name in enumerate(("crps", "log", "peer", "coverage"), start=1):
                assert records[name].tolist() == [r[j] for r in rows]


def test_scores_command_for_a_numeric_question(runner, database):
    w.scored_world(database)
    doc = json_out(runner, "scores", "gdp")
    assert doc["question"] == "gdp" and doc["value"] == 1.25
    with database.session() as session:
        q = session.query(Question).filter_by(slug="gdp").one()
        names = dict(session.execute(select(User.id, User.username)).all())
        rows = {names[r.user_id]: r for r in session.scalars(
            select(QuestionScore).where(QuestionScore.question_id == q.id))}
        crowd = session.get(CrowdScore, q.id)
    assert set(doc["users"]) == set(rows)
    for name, values in doc["users"].items():
        assert set(values) == {"crps", "log", "peer", "coverage"}  # no brier, no rps
        for key, value in values.items():
            assert value == getattr(rows[name], key)
    assert doc["crowd"] == {"crps": crowd.crps, "log": crowd.log}
    table = runner("scores", "gdp", "--format", "csv")
    assert table.exit_code == 0 and table.stdout.splitlines()[0] == "user,crps,log,peer,coverage"


def _case_entries(case) -> tuple[list[tuple], float, float | None]:
    """(user, at, knots) of each forecast of a reference case, its close and known_at;
    flat cases put each CDF with its own user, standing from T0 to the close (so the
    time average is the per-forecast score)."""
    if "forecasts" in case:
        return ([(f["user"], f["at"], f["cdf"]) for f in case["forecasts"]],
                case["close_at"], case.get("known_at"))
    return [(f"u{i}", 0, knots) for i, knots in enumerate(case["cdf"])], 100, None


def _case_world(database, case, runner=None) -> tuple[str, list[str]]:
    """One question of a reference case (`_case_entries`), resolved through the models and
    rescored, or with `runner` by `forecasts resolve` (the resolution-time scoring)."""
    lo, hi = case["range"]
    slug = case["id"].replace("_", "-")
    entries, close, known = _case_entries(case)
    values = [w.from_knots(knots) for _, _, knots in entries]
    with database.transaction() as session:
        ids = w.user_ids(session, sorted({e[0] for e in entries}))
        q = w.add_question(session, slug, lo, hi, close=close,
                           open_lower=any(v[0] > 0 for v in values),
                           open_upper=any(v[-1] < 1 for v in values))
        for (name, t, _), v in zip(entries, values):
            w.add_forecast(session, q, ids[name], t, v)
        if runner is None:
            w.resolve(session, q, case["y"], known)
    if runner is None:
        w.rescore(database)
    else:
        when = [] if known is None else ["--known-at", w.at(known).isoformat()]
        dry = runner("resolve", slug, repr(float(case["y"])), *when, "--dry-run")
        assert dry.exit_code == 0, dry.stderr
        assert runner("scores", slug).exit_code != 0  # a dry run settles nothing
        done = runner("resolve", slug, repr(float(case["y"])), *when)
        assert done.exit_code == 0, done.stderr
    return slug, [e[0] for e in entries]


def _numeric_cases():
    from pathlib import Path
    doc = json.loads((Path(__file__).parent / "reference" / "scoring_cases.json").read_text())
    return doc.get("numeric", [])


@pytest.mark.parametrize("by", ["models", "resolve-command"])
@pytest.mark.parametrize("case", _numeric_cases(), ids=lambda c: c["id"])
def test_reference_numeric_cases_through_cli(runner, database, case, by):
    slug, users = _case_world(database, case, runner if by == "resolve-command" else None)
    doc = json_out(runner, "scores", slug)
    # Exactly (1e-9) the engine on the stored CDFs ...
    with database.session() as session:
        inputs = numeric_inputs(session)
        names = dict(session.execute(select(User.id, User.username)).all())
    engine = scoring.score_numeric(inputs.questions, inputs.forecasts)
    for i in range(len(engine.user)):
        got = doc["users"][names[int(engine.user[i])]]
        for name in ("crps", "log", "peer", "coverage"):
            assert got[name] == pytest.approx(getattr(engine, name)[i], abs=TOL, rel=TOL)
    assert doc["crowd"]["crps"] == pytest.approx(engine.crowd_crps[0], abs=TOL, rel=TOL)
    assert doc["crowd"]["log"] == pytest.approx(engine.crowd_log[0], abs=TOL, rel=TOL)
    # ... and the hand-checked values, to 1e-9 too (storage is exact).
    if "expected" in case:
        expected = dict(case["expected"])
        crowd = expected.pop("crowd")
        for name, values in expected.items():
            for key, value in values.items():
                assert doc["users"][name][key] == pytest.approx(value, abs=STORED_TOL[key])
        for key in ("crps", "log"):
            assert doc["crowd"][key] == pytest.approx(crowd[key], abs=STORED_TOL[key])
        return
    for key in ("crps", "log", "peer"):
        for i, value in enumerate(case.get(key, [])):
            assert doc["users"][users[i]][key] == pytest.approx(value, abs=STORED_TOL[key])
    for name in users:
        assert doc["users"][name]["coverage"] == pytest.approx(1.0, abs=TOL)


def test_an_imported_bundle_is_scored_as_a_plain_recomputation(runner, tmp_path, database):
    from tests.test_numeric_bundle import document

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(document()))
    result = runner("import", path)
    assert result.exit_code == 0, result.stderr
    slugs = ["gdp-growth", "treaty-date"]  # the resolved numeric and date questions
    with database.session() as session:
        qs, plain_q, plain_f = w.plain_inputs(session, slugs)
        names = dict(session.execute(select(User.id, User.username)).all())
    plain = ref.score_numeric(plain_q, plain_f)
    assert plain["rows"]
    for qi, slug in enumerate(slugs):
        doc = json_out(runner, "scores", slug)
        assert doc["value"] == plain_q["outcome"][qi]
        mine = {names[u]: v for (q, u), v in plain["rows"].items() if q == qi}
        assert set(doc["users"]) == set(mine)
        for name, values in mine.items():
            for key, value in values.items():
                assert doc["users"][name][key] == pytest.approx(value, abs=TOL, rel=TOL)
        for key in ("crps", "log"):
            assert doc["crowd"][key] == pytest.approx(plain["crowd"][qi][key], abs=TOL, rel=TOL)
    board = json_out(runner, "leaderboard", "--metric", "crps")
    for row in board:
        mine = [v["crps"] for (q, u), v in plain["rows"].items() if names[u] == row["user"]]
        assert row["questions"] == len(mine)
        assert row["crps"] == pytest.approx(sum(mine) / len(mine), abs=TOL, rel=TOL)


def _bundle_cases():
    """The reference cases whose CDFs SPEC section 11 accepts (a bundle refuses the point
    masses), with the open sides their CDFs imply."""
    from forecasts import cdf
    from forecasts.errors import InvalidInput

    out = []
    for case in _numeric_cases():
        knots = ([f["cdf"] for f in case["forecasts"]] if "forecasts" in case else case["cdf"])
        values = [w.from_knots(k) for k in knots]
        lower, upper = any(v[0] > 0 for v in values), any(v[-1] < 1 for v in values)
        try:
            for v in values:
                cdf.validate_cdf(v, open_lower=lower, open_upper=upper)
        except InvalidInput:
            continue
        out.append(case)
    return out


@pytest.mark.parametrize("case", _bundle_cases(), ids=lambda c: c["id"])
def test_reference_numeric_cases_imported_as_a_bundle(runner, tmp_path, database, case):
    """Issue #14: a bundle whose CDFs are the reference's (k/200 and the like, off the
    2**-24 grid) is stored exactly, so `forecasts scores` gives the hand values to 1e-9."""
    from tests.builders import bundle

    lo, hi = case["range"]
    slug = case["id"].replace("_", "-")
    entries, close, known = _case_entries(case)
    values = [w.from_knots(knots).tolist() for _, _, knots in entries]
    iso = lambda seconds: w.at(seconds).isoformat().replace("+00:00", "Z")  # noqa: E731
    question = {"slug": slug, "title": f"How much ({slug})?", "kind": "numeric",
                "range": {"min": lo, "max": hi}, "open_at": iso(0), "close_at": iso(close),
                "open_lower": any(v[0] > 0 for v in values),
                "open_upper": any(v[-1] < 1 for v in values),
                "resolution": {"value": case["y"], "known_at": None if known is None
                               else iso(known), "note": "reference"}}
    rows = [{"question": slug, "user": name, "at": iso(t), "cdf": v}
            for (name, t, _), v in zip(entries, values)]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle([question], rows,
                                      users=sorted({e[0] for e in entries}))))
    result = runner("import", path)
    assert result.exit_code == 0, result.stderr
    with database.session() as session:
        stored = [f.cdf_values.tolist()
                  for f in session.scalars(select(Forecast).order_by(Forecast.id))]
        sizes = {len(c) for c in session.scalars(select(Forecast.cdf))}
    assert stored == values
    assert 1608 in sizes  # some are off the 2**-24 grid, kept exactly
    doc = json_out(runner, "scores", slug)
    users = [e[0] for e in entries]
    if "expected" in case:
        expected = dict(case["expected"])
        crowd = expected.pop("crowd")
        for name, figures in expected.items():
            for key, value in figures.items():
                assert doc["users"][name][key] == pytest.approx(value, abs=TOL), (name, key)
        for key in ("crps", "log"):
            assert doc["crowd"][key] == pytest.approx(crowd[key], abs=TOL), key
        return
    for key in ("crps", "log", "peer"):
        for i, value in enumerate(case.get(key, [])):
            assert doc["users"][users[i]][key] == pytest.approx(value, abs=TOL), (key, i)
