"""Bulk paths: synth, bulk inserts, array-checked import, snapshot export, backups."""
from __future__ import annotations

import gzip
import io
import json
import math
import threading

import numpy as np
import pytest
from sqlalchemy import func, select

from forecasts import bulk, timeutil
from forecasts.db import Database
from forecasts.errors import ForecastsError
from forecasts.models import (Forecast, Question, QuestionScore, QuestionStats, Resolution,
                              User)
from forecasts.services import forecasts as forecast_rules
from forecasts.services import question_stats, scores
from forecasts.services.bundle import export_bundle, import_bundle, write_bundle
from forecasts.services.synth import synth, vector_thousandths
from forecasts.services.users import create_user
from forecasts.snapshot import snapshot
from tests.builders import bundle, mc_data, question_data
from tests.test_bundle import counts, wipe

NOW = timeutil.parse("2026-12-01T12:00:00Z", where="now")


def score_rows(session) -> list[tuple]:
    return session.execute(select(QuestionScore.question_id, QuestionScore.user_id,
                                  QuestionScore.brier, QuestionScore.log, QuestionScore.peer)
                           .order_by(QuestionScore.question_id, QuestionScore.user_id)).all()


def test_vector_thousandths_keeps_the_floor_and_the_sum():
    rng = np.random.default_rng(5)
    for k in (2, 3, 6):
        # Tiny components are the case clipping-then-normalising gets wrong.
        p = rng.dirichlet(np.full(k, 0.05), 2000)
        got = vector_thousandths(p)
        assert (got >= 1).all() and (got.sum(axis=1) == 1000).all()
        # An independent slow largest-remainder apportionment gives the same integers.
        for row, mine in zip(p[:200], got[:200]):
            scaled = [1 + (1000 - k) * v for v in row]
            base = [math.floor(v) for v in scaled]
            by_remainder = sorted(range(k), key=lambda j: (-(scaled[j] - base[j]), j))
            for j in by_remainder[:1000 - sum(base)]:
                base[j] += 1
            assert base == mine.tolist()


def test_bulk_insert_takes_rows_or_arrays(database):
    with database.transaction() as s:
        ids = bulk.reserve_ids(s, User, 3)
        assert len(set(ids.tolist())) == 3
        n = bulk.insert_rows(s, User, ("id", "username", "role", "session_epoch", "created_at"), {
            "id": ids, "username": ["ann", "ben", "cat"], "role": ["forecaster"] * 3,
            "session_epoch": np.zeros(3, np.int64), "created_at": np.full(3, 10**15)})
        assert n == 3
        # Rows given as tuples; the sequence still hands out fresh ids afterwards.
        more = bulk.reserve_ids(s, User, 1)
        bulk.insert_rows(s, "users", ("id", "username", "role", "session_epoch", "created_at"),
                         iter([(int(more[0]), "dan", "admin", 0, 10**15)]))
        later = create_user(s, "eve")
    with database.session() as s:
        names = s.execute(select(User.id, User.username, User.role).order_by(User.id)).all()
    assert [n for _, n, _ in names] == ["ann", "ben", "cat", "dan", "eve"]
    assert names[3][2] == "admin" and later.id > int(more[0])
    with database.session() as s:
        assert s.get(User, int(ids[0])).created_at == timeutil.from_micros(10**15)


def test_synth_makes_a_valid_realistic_data_set(database):
    with database.transaction() as s:
        made = synth(s, questions=120, users=30, forecasts=6000, hot_question_forecasts=700,
                     seed=3, now=NOW)
    assert (made.questions, made.users, made.forecasts) == (121, 30, 6700)
    with database.session() as s:
        questions = {q.id: q for q in s.scalars(select(Question))}
        resolved = dict(s.execute(select(Resolution.question_id, Resolution.known_at)).all())
        rows = s.scalars(select(Forecast)).all()
        assert len(rows) == 6700
        kinds = {q.kind for q in questions.values()}
        assert kinds == {"binary", "multiple_choice"}
        assert all(q.tags for q in questions.values())
        assert 0.45 < len(resolved) / len(questions) < 0.75
        for f in rows:
            q = questions[f.question_id]
            assert q.open_at <= f.at < q.close_at and f.at <= NOW
            if q.kind == "binary":
                assert forecast_rules.P_MIN <= f.probability <= forecast_rules.P_MAX
            else:
                ps = f.probabilities
                assert len(ps) == len(q.options) and min(ps) >= forecast_rules.P_MIN
                assert abs(math.fsum(ps) - 1) <= 1e-12
        hot = [q for q in questions.values() if sum(f.question_id == q.id for f in rows) == 700]
        assert len(hot) == 1 and hot[0].id not in resolved and hot[0].close_at > NOW
        assert hot[0].open_at < NOW
        stored = score_rows(s)
    assert stored
    with database.transaction() as s:  # scored once at the end, exactly as a rescore does
        scores.rescore_questions(s, None)
    with database.session() as s:
        assert score_rows(s) == stored


def figures(session) -> dict[str, tuple]:
    """The maintained question figures by slug (ids differ between databases)."""
    return {slug: (n, m, last, crowd) for slug, n, m, last, crowd in session.execute(
        select(Question.slug, QuestionStats.forecasters, QuestionStats.forecasts,
               QuestionStats.last_forecast_at, QuestionStats.crowd_json)
        .join(Question, Question.id == QuestionStats.question_id))}


def test_synth_bundle_round_trips(database):
    with database.transaction() as s:
        synth(s, questions=60, users=12, forecasts=2500, hot_question_forecasts=100, seed=9,
              now=NOW)
    with database.session() as s:
        first = export_bundle(s)
        before = counts(s), score_rows(s), figures(s)
    assert len(before[2]) > 40
    wipe(database)
    with database.transaction() as s:
        import_bundle(s, json.loads(json.dumps(first)))
    with database.session() as s:
        assert export_bundle(s) == first
        assert counts(s) == before[0]
        assert len(score_rows(s)) == len(before[1])
        # Synth's and import's figures agree, and with a refresh from scratch.
        assert {k: v for k, v in figures(s).items() if v[1]} == \
            {k: v for k, v in before[2].items() if v[1]}
    with database.transaction() as s:
        question_stats.refresh(s, None)
    with database.session() as s:
        assert {k: v for k, v in figures(s).items() if v[1]} == \
            {k: v for k, v in before[2].items() if v[1]}


def test_synth_refuses_bad_counts_and_reused_names(database):
    with pytest.raises(ForecastsError) as caught, database.transaction() as s:
        synth(s, questions=5, users=0, forecasts=10)
    assert caught.value.where == "--users"
    with database.transaction() as s:
        synth(s, questions=3, users=2, forecasts=10, seed=1)
    with pytest.raises(ForecastsError, match="already exists"), database.transaction() as s:
        synth(s, questions=3, users=2, forecasts=10, seed=1)
    with database.transaction() as s:  # another seed names its rows apart
        synth(s, questions=3, users=2, forecasts=10, seed=2)


def unusual_rows() -> list[dict]:
    """Valid rows the array checks leave to the row path, mixed with plain ones."""
    return [
        {"question": "strike-2027", "user": "alice", "at": "2026-02-01T00:00:00Z",
         "probability": 0.2},
        {"question": "strike-2027", "user": "bob", "at": "2026-02-01T02:00:00+02:00",
         "probability": 0.3, "rationale": "offset"},
        {"question": "strike-2027", "user": "Carol", "at": "2026-02-01T00:00:00.25Z",
         "probability": 0.999},
        {"question": "strike-2027", "user": "dan", "at": "2026-02-01", "probability": 0.001},
        {"question": "partner-2027", "user": "alice", "at": "2026-03-01T00:00:00.123456Z",
         "probabilities": [0.4, 0.3, 0.2, 0.1]},
        {"question": "partner-2027", "user": "bob", "at": "2026-03-01T00:00:00Z",
         "probabilities": [0.4, 0.3, 0.2, 0.1000005], "rationale": ""},
        {"question": "partner-2027", "user": "dan", "at": "2026-03-02 10:00",
         "probabilities": [0.25, 0.25, 0.25, 0.25], "rationale": "Ottawa is keen."},
    ]


def test_import_stores_what_the_row_checks_give(database):
    doc = bundle(questions_=[question_data(), mc_data()], forecasts=unusual_rows(), users=[])
    with database.transaction() as s:
        import_bundle(s, doc)
    with database.session() as s:
        options = {q.slug: len(q.options) for q in s.scalars(select(Question))}
        kinds = {q.slug: q.kind for q in s.scalars(select(Question))}
        stored = s.execute(select(Question.slug, User.username, Forecast.at, Forecast.probability,
                                  Forecast.probabilities_json, Forecast.rationale)
                           .join(Question, Forecast.question_id == Question.id)
                           .join(User, Forecast.user_id == User.id).order_by(Forecast.id)).all()
    expected = []
    for row in unusual_rows():  # the row-by-row rules, one at a time
        p, ps = forecast_rules.check_payload(kinds[row["question"]], options[row["question"]],
                                             row.get("probability"), row.get("probabilities"))
        expected.append((row["question"], row["user"], timeutil.parse(row["at"], where="at"), p,
                         None if ps is None else json.dumps(ps),
                         forecast_rules.check_rationale(row.get("rationale"))))
    assert [tuple(r) for r in stored] == expected


@pytest.mark.parametrize("first_bad, change", [
    ("user", {"user": "no spaces"}),
    ("at", {"at": "2026-02-30T00:00:00Z"}),
    ("probability", {"probability": 1}),
])
def test_the_first_bad_row_is_named_whatever_comes_later(database, first_bad, change):
    rows = unusual_rows() * 3
    rows[4] = {**rows[0], **change}
    rows[9] = {**rows[0], "at": "2020-01-01T00:00:00Z"}  # also bad, but later
    doc = bundle(questions_=[question_data(), mc_data()], forecasts=rows, users=[])
    with pytest.raises(ForecastsError) as caught, database.transaction() as s:
        import_bundle(s, doc)
    assert caught.value.where.startswith("forecasts[4] (strike-2027, ")
    assert caught.value.where.endswith(f".{first_bad}")
    with database.session() as s:
        assert counts(s) == (0, 0, 0, 0, 0)


class Interleaving(io.StringIO):
    """An export target that, once the export reaches the forecasts, has another
    connection register a user who forecasts, add a question, and commit."""

    def __init__(self, url: str):
        super().__init__()
        self.url, self.done = url, False

    def write(self, text: str) -> int:
        if not self.done and text.startswith(' "forecasts"'):
            self.done = True
            thread = threading.Thread(target=self._meanwhile)  # its own connection
            thread.start()
            thread.join(timeout=30)
            assert self.done == "written"
        return super().write(text)

    def _meanwhile(self) -> None:
        other = Database(self.url)
        try:
            with other.transaction() as s:
                user = create_user(s, "latecomer")
                question = s.scalars(select(Question).where(Question.slug == "strike-2027")).one()
                s.add(Forecast(question_id=question.id, user_id=user.id, at=NOW, probability=0.4))
                s.add(Question(slug="late-question", title="Late", kind="binary",
                               open_at=NOW, close_at=timeutil.parse("2027-06-01", where="-")))
            self.done = "written"
        finally:
            other.dispose()


def test_export_is_one_snapshot_while_others_write(database, db_url):
    doc = bundle(questions_=[question_data(close_at="2027-12-01T00:00:00Z"), mc_data()],
                 forecasts=unusual_rows())
    with database.transaction() as s:
        import_bundle(s, doc)
    with database.session() as s:
        before = export_bundle(s)
    out = Interleaving(db_url)
    with snapshot(database) as s:
        write_bundle(s, out)
    assert out.done == "written"
    taken = json.loads(out.getvalue())
    assert taken == before  # nothing of what was committed meanwhile
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Forecast)) == len(before["forecasts"]) + 1
    wipe(database)
    with database.transaction() as s:
        import_bundle(s, taken)
    with database.session() as s:
        assert export_bundle(s) == before


def test_export_command_writes_the_same_text_as_json_dumps(database, runner, tmp_path):
    with database.transaction() as s:
        import_bundle(s, bundle(questions_=[question_data(),
                                            mc_data(title="Partenaire préféré — 2027?")],
                                forecasts=unusual_rows()))
    assert runner("export", tmp_path / "out.json").exit_code == 0
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_backup_keeps_the_newest_and_restores(database, runner, tmp_path):
    with database.transaction() as s:
        import_bundle(s, bundle(questions_=[question_data(), mc_data()], forecasts=unusual_rows()))
    with database.session() as s:
        before = export_bundle(s), counts(s)
    folder = tmp_path / "backups"
    folder.mkdir()
    for stamp in ("20250101T000000Z", "20250102T000000Z", "20250103T000000Z"):
        (folder / f"forecasts-{stamp}.json.gz").write_bytes(b"old")
    (folder / "notes.txt").write_text("not a backup")
    result = runner("backup", folder, "--keep", "2")
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "forecasts-20250103T000000Z.json.gz" and names[-1] == "notes.txt"
    assert len(names) == 3 and names[1].startswith(f"forecasts-{timeutil.now():%Y}")
    with gzip.open(folder / names[1], "rt", encoding="utf-8") as f:
        assert json.load(f) == before[0]
    # The restore drill: an empty database, import the backup, the same counts.
    wipe(database)
    assert runner("import", folder / names[1]).exit_code == 0
    with database.session() as s:
        assert counts(s) == before[1]
        assert export_bundle(s) == before[0]
    assert runner("backup", folder, "--keep", "0").exit_code != 0
    truncated = folder / "forecasts-20250103T000000Z.json.gz"
    failed = runner("import", truncated)
    assert failed.exit_code != 0 and str(truncated) in failed.stderr
    with database.session() as s:
        assert counts(s) == before[1]


def index_definitions(database) -> list[tuple]:
    sql = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
           if database.is_sqlite else
           "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
    with database.engine.connect() as conn:
        return conn.exec_driver_sql(sql).all()


def test_bulk_insert_into_an_empty_table_keeps_every_index(database):
    before = index_definitions(database)
    with database.transaction() as s:
        synth(s, questions=20, users=5, forecasts=500, seed=4, now=NOW)
    assert index_definitions(database) == before
    with database.engine.connect() as conn:  # the rebuilt index answers queries
        held = conn.exec_driver_sql("SELECT count(*) FROM forecasts WHERE user_id > 0").scalar()
    assert held == 500
