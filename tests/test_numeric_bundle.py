"""Bundles with numeric and date questions (SPEC §7, §11): the definition, CDF forecasts
and value resolutions round-trip losslessly (the given values stored and exported bit for
bit, the stored bytes again), and a bad row is named (index and rule) and changes
nothing."""
from __future__ import annotations

import copy
import io
import json

import numpy as np
import pytest
from sqlalchemy import select

from forecasts import cdf, timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Forecast, Question, Resolution
from forecasts.services.bundle import export_bundle, import_bundle, write_bundle
from tests.builders import bundle, question_data
from tests.test_bundle import counts, wipe
from tests.test_numeric_domain import date_data, numeric_data

OPEN, CLOSE = "2025-01-01T00:00:00Z", "2025-07-01T00:00:00Z"


def awkward_cdf(seed: int, open_lower: bool, open_upper: bool) -> list[float]:
    """A valid CDF with uneven buckets (some near the 5e-5 minimum) and values off the
    2**-24 grid, which float32 cannot hold: stored as float64."""
    rng = np.random.default_rng(seed)
    steps = rng.exponential(1.0, 200) + 0.003
    steps[rng.integers(0, 200, 20)] = 0.0
    lo = 0.0123456789 if open_lower else 0.0
    hi = 0.9876543211 if open_upper else 1.0
    mass = hi - lo
    steps = 5.2e-5 + (mass - 200 * 5.2e-5) * steps / steps.sum()
    f = np.concatenate(([lo], lo + np.cumsum(steps)))
    f[-1] = hi
    return cdf.validate_cdf(f, open_lower=open_lower, open_upper=open_upper).tolist()


def document() -> dict:
    gdp = numeric_data(open_at=OPEN, close_at=CLOSE, open_lower=True, open_upper=False,
                       rule={"type": "value", "series": "gdp"})
    gdp["resolution"] = {"value": 14.75, "known_at": None, "note": "statistics office"}
    treaty = date_data(open_at=OPEN, close_at=CLOSE)
    treaty["resolution"] = {"value": "2027-02-03T04:05:06.789Z", "known_at": "2025-06-01T00:00:00Z",
                            "history": [{"value": "2026-05-01T00:00:00Z", "note": "first"}]}
    later = numeric_data(slug="rate-2026", open_at=OPEN, close_at="2027-01-01T00:00:00Z",
                         range={"min": 0, "max": 1e-3}, unit=None)
    forecasts = [
        {"question": "gdp-growth", "user": "alice", "at": "2025-02-01T00:00:00Z",
         "cdf": awkward_cdf(1, True, False), "rationale": "trend"},
        {"question": "gdp-growth", "user": "bob", "at": "2025-03-01T00:00:00Z",
         "cdf": awkward_cdf(2, True, False)},
        {"question": "treaty-date", "user": "alice", "at": "2025-02-01T00:00:00Z",
         "cdf": awkward_cdf(3, False, True)},
        {"question": "rate-2026", "user": "bob", "at": "2025-04-01T00:00:00Z",
         "cdf": awkward_cdf(4, True, True)},
        {"question": "strike-2027", "user": "alice", "at": "2026-02-01T00:00:00Z",
         "probability": 0.2},
    ]
    return bundle([gdp, treaty, later, question_data()], forecasts, users=["alice", "bob"])


def stored(session):
    questions = [(q.slug, q.kind, q.range_min, q.range_max, q.open_lower, q.open_upper, q.unit)
                 for q in session.scalars(select(Question).order_by(Question.slug))]
    forecasts = [(f.question.slug, f.user.username, f.at, f.probability, f.cdf)
                 for f in session.scalars(select(Forecast).order_by(Forecast.id))]
    resolutions = [(r.question.slug, r.outcome, r.value, r.known_at, r.superseded_at is None)
                   for r in session.scalars(select(Resolution).order_by(Resolution.id))]
    return questions, forecasts, resolutions


def exported_text(session) -> str:
    out = io.StringIO()
    write_bundle(session, out)
    return out.getvalue()


def test_numeric_and_date_bundles_round_trip_to_the_same_bytes(database):
    doc = document()
    with database.transaction() as s:
        import_bundle(s, doc)
    with database.session() as s:
        first = stored(s)
        text = exported_text(s)
        exported = export_bundle(s)
    questions, forecasts, resolutions = first
    assert ("gdp-growth", "numeric", -5.0, 15.0, True, False, "%") in questions
    assert ("rate-2026", "numeric", 0.0, 1e-3, True, True, None) in questions
    # Each CDF is stored exactly as given (off the 2**-24 grid: 201 float64), and exported
    # as the given values, bit for bit, in the written text too.
    given = [f["cdf"] for f in doc["forecasts"] if "cdf" in f]
    assert [f[4] for f in forecasts if f[4] is not None] == [
        np.array(c, "<f8").tobytes() for c in given]
    out = [f["cdf"] for f in exported["forecasts"] if "cdf" in f]
    assert [[v.hex() for v in c] for c in out] == [[v.hex() for v in c] for c in given]
    written = [f["cdf"] for f in json.loads(text)["forecasts"] if "cdf" in f]
    assert [[v.hex() for v in c] for c in written] == [[v.hex() for v in c] for c in given]
    assert all("probability" not in f and "probabilities" not in f
               for f in exported["forecasts"] if "cdf" in f)
    by_slug = {q["slug"]: q for q in exported["questions"]}
    assert by_slug["gdp-growth"]["resolution"]["value"] == 14.75
    assert by_slug["gdp-growth"]["resolution"]["outcome"] == "14.75"
    treaty = by_slug["treaty-date"]
    assert treaty["range"] == {"min": "2026-01-01T00:00:00Z", "max": "2028-01-01T12:30:00.250000Z"}
    assert treaty["resolution"]["value"] == "2027-02-03T04:05:06.789000Z"
    assert treaty["resolution"]["history"][0]["value"] == "2026-05-01T00:00:00Z"
    assert ("treaty-date", "2027-02-03T04:05:06.789000Z",
            timeutil.to_micros(timeutil.parse("2027-02-03T04:05:06.789Z", where="-")) / 1e6,
            timeutil.parse("2025-06-01", where="-"), True) in resolutions

    wipe(database)
    with database.transaction() as s:
        import_bundle(s, exported)
    with database.session() as s:
        again = stored(s)
        assert exported_text(s) == text
    assert again == first


@pytest.mark.parametrize("path, value, where, words", [
    (("forecasts", 1, "cdf", 57), 0.0, "forecasts[1] (gdp-growth, 'bob').cdf[57]",
     "never decreases"),
    (("forecasts", 1, "cdf", 200), 0.9995, "forecasts[1] (gdp-growth, 'bob').cdf[200]",
     "upper bound is closed"),
    (("forecasts", 2, "cdf", 0), 0.01, "forecasts[2] (treaty-date, 'alice').cdf[0]",
     "lower bound is closed"),
    (("forecasts", 3, "cdf"), None, "forecasts[3] (rate-2026, 'bob').cdf", "is missing"),
    (("forecasts", 3, "probability"), 0.5, "forecasts[3] (rate-2026, 'bob').probability",
     "takes a 'cdf'"),
    (("forecasts", 4, "cdf"), [0.5] * 201, "forecasts[4] (strike-2027, 'alice').cdf",
     "not 'cdf'"),
    (("questions", 0, "range", "max"), -6, "questions[0] (gdp-growth).range.max",
     "range.min must be < range.max"),
    (("questions", 0, "resolution", "value"), 15.5,
     "questions[0] (gdp-growth).resolution.value", "above the range's max 15"),
    (("questions", 0, "resolution", "value"), "14.75",
     "questions[0] (gdp-growth).resolution.value", "not a number"),
    (("questions", 0, "resolution", "outcome"), "15",
     "questions[0] (gdp-growth).resolution.outcome", "not the text of the value"),
    (("questions", 1, "resolution", "value"), None,
     "questions[1] (treaty-date).resolution.value", "resolves to a value"),
    (("questions", 1, "resolution", "history", 0, "value"), "2025-12-31T00:00:00Z",
     "questions[1] (treaty-date).resolution.history[0].value", "below the range's min"),
    (("questions", 3, "resolution"), {"outcome": "yes", "value": 1},
     "questions[3] (strike-2027).resolution.value", "only a numeric or date"),
])
def test_a_bad_row_is_named_and_nothing_is_written(database, path, value, where, words):
    doc = copy.deepcopy(document())
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is None:
        target.pop(path[-1])
    else:
        target[path[-1]] = value
    with database.session() as s:
        before = counts(s)
    with pytest.raises(InvalidInput) as info:
        with database.transaction() as s:
            import_bundle(s, doc)
    assert info.value.where == where, info.value.where
    assert words in str(info.value)
    with database.session() as s:
        assert counts(s) == before


def test_cdfs_on_and_off_the_grid_round_trip_in_their_own_form(database):
    """k/200 and an uneven CDF (off the 2**-24 grid) are kept in 1608 bytes, k/256 and a
    snapped CDF (on it) in 804; each exports and re-imports as the same values and bytes."""
    gdp = numeric_data(open_at=OPEN, close_at=CLOSE, open_lower=False, open_upper=False)
    k = np.arange(201)
    steps = np.where(k < 200, k / 256, 1.0)  # F_200 = 1 after 199/256: on the grid
    values = [(k / 200).tolist(), steps.tolist(), cdf.snap(awkward_cdf(7, False, False)).tolist(),
              awkward_cdf(8, False, False)]
    rows = [{"question": "gdp-growth", "user": "alice", "at": f"2025-02-0{1 + i}T00:00:00Z",
             "cdf": v} for i, v in enumerate(values)]
    with database.transaction() as s:
        import_bundle(s, bundle([gdp], rows, users=["alice"]))
    with database.session() as s:
        first = [f.cdf for f in s.scalars(select(Forecast).order_by(Forecast.id))]
        exported = export_bundle(s)
    sizes = [1608, 804, 804, 1608]
    assert [len(b) for b in first] == sizes
    assert first == [np.array(c, "<f8" if n == 1608 else "<f4").tobytes()
                     for c, n in zip(values, sizes)]
    assert [f["cdf"] for f in exported["forecasts"]] == values
    wipe(database)
    with database.transaction() as s:
        import_bundle(s, exported)
    with database.session() as s:
        assert [f.cdf for f in s.scalars(select(Forecast).order_by(Forecast.id))] == first


def test_an_annulled_numeric_question_round_trips_without_a_value(database):
    gdp = numeric_data(open_at=OPEN, close_at=CLOSE)
    gdp["resolution"] = {"outcome": "annulled", "note": "series discontinued"}
    with database.transaction() as s:
        import_bundle(s, bundle([gdp], [], users=[]))
    with database.session() as s:
        found = s.scalars(select(Resolution)).one()
        assert (found.outcome, found.value) == ("annulled", None)
        exported = export_bundle(s)
    assert "value" not in exported["questions"][0]["resolution"]


def test_the_array_check_stores_what_the_row_check_would(database):
    """Plain rows skip the row path: their stored bytes are cdf.encode's, integer values
    count as numbers, and every flaw still raises the row path's error for the first bad
    row, whichever rows come before it."""
    gdp = numeric_data(open_at=OPEN, close_at=CLOSE, open_lower=True, open_upper=False)
    rows = []
    for i in range(60):
        f = awkward_cdf(10 + i, True, False)
        rows.append({"question": "gdp-growth", "user": f"u{i % 7}",
                     "at": f"2025-02-{1 + i % 28:02d}T00:00:00Z", "cdf": f})
    rows[5]["cdf"][200] = 1  # an int is a number
    with database.transaction() as s:
        import_bundle(s, bundle([gdp], copy.deepcopy(rows), users=[]))
    with database.session() as s:
        got = [f.cdf for f in s.scalars(select(Forecast).order_by(Forecast.id))]
    assert got == [cdf.encode(np.array(r["cdf"], float)) for r in rows]
    wipe(database)

    flaws = [(30, 200, True, "True is not a finite number"), (31, 0, 0.0, "lower bound is open"),
             (32, 100, float("nan"), "not a finite number"), (33, 7, "0.1", "not a finite"),
             (34, 150, 2.0, "not a probability"), (35, 199, 1.0, "bucket")]
    for at, k, value, words in flaws:
        doc = copy.deepcopy(rows)
        doc[at]["cdf"][k] = value
        doc[at + 10]["cdf"][3] = -1.0  # a later bad row is not the one named
        with pytest.raises(InvalidInput) as info:
            with database.transaction() as s:
                import_bundle(s, bundle([gdp], doc, users=[]))
        assert info.value.where.startswith(f"forecasts[{at}] (gdp-growth, ")
        assert info.value.where.endswith(".cdf[200]" if k == 199 else f".cdf[{k}]"), \
            info.value.where
        assert words in str(info.value), str(info.value)


def test_cli_export_and_import_round_trip_numeric_questions(runner, tmp_path, database):
    source, again = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps(document()))
    assert runner("import", str(source)).exit_code == 0
    assert runner("export", str(tmp_path / "first.json")).exit_code == 0
    with database.session() as s:
        first = stored(s)
    wipe(database)
    assert runner("import", str(tmp_path / "first.json")).exit_code == 0
    assert runner("export", str(again)).exit_code == 0
    assert again.read_text() == (tmp_path / "first.json").read_text()
    with database.session() as s:
        assert stored(s) == first
    listed = json.loads(runner("question", "list", "--format", "json").output)
    assert {q["slug"]: q["outcome"] for q in listed}["gdp-growth"] == "14.75"
