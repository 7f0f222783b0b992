"""Scores and leaderboards through the CLI reproduce the hand-checked reference bundles,
and stay in step with every resolution change."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.builders import bundle

TOL = 1e-9


def load(runner, tmp_path, doc) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc))
    result = runner("import", path)
    assert result.exit_code == 0, result.stderr


def json_out(runner, *args):
    result = runner(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def close(a, b) -> bool:
    return a == pytest.approx(b, abs=TOL, rel=TOL)


@pytest.mark.parametrize("case", [0, 1])
def test_reference_bundles_through_cli(runner, tmp_path, reference, case):
    data = reference["bundles"][case]
    load(runner, tmp_path, data["bundle"])
    for slug, expected in data["expected"]["scores"].items():
        got = json_out(runner, "scores", slug)
        assert got["question"] == slug
        assert set(got["users"]) == set(expected["users"])
        for user, values in expected["users"].items():
            for key, value in values.items():
                assert close(got["users"][user][key], value), (slug, user, key)
        for key, value in expected["crowd"].items():
            assert close(got["crowd"][key], value), (slug, "crowd", key)
    # The default ranking is peer_global (SPEC section 6); brier stays selectable.
    for metric, args in (("brier", ["--metric", "brier"]), ("peer_global", [])):
        rows = json_out(runner, "leaderboard", *args)
        expected_rows = data["expected"][f"leaderboard_{metric}"]
        assert [r["user"] for r in rows] == [r["user"] for r in expected_rows], metric
        for got, want in zip(rows, expected_rows):
            assert set(got) == {"rank", "user", "questions", "brier", "log", "peer",
                                "peer_total", "peer_global", "relative_brier", "coverage",
                                "interval", "crps"}
            assert got["crps"] is None  # no numeric question in these bundles
            for key, value in want.items():
                assert got[key] == value if isinstance(value, (int, str)) else \
                    close(got[key], value), (metric, key)
            if got["questions"] == 1:
                assert got["interval"] is None  # no interval, not a zero-width one
            else:
                low, high = got["interval"]
                assert low < high and low <= got[metric] + TOL <= high + 2 * TOL


def test_leaderboard_is_reproducible_and_filters(runner, tmp_path, reference):
    load(runner, tmp_path, reference["bundles"][1]["bundle"])
    first = json_out(runner, "leaderboard", "--metric", "peer", "--with-crowd")
    assert first == json_out(runner, "leaderboard", "--metric", "peer", "--with-crowd")
    assert first[-1]["user"] == "crowd" and first[-1]["rank"] is None
    assert [r["rank"] for r in first[:-1]] == [1, 2]
    trade = json_out(runner, "leaderboard", "--tag", "trade")
    assert {r["questions"] for r in trade} == {1}
    assert json_out(runner, "leaderboard", "--min-questions", "3") == []
    # tariff-bracket-2026 ends at its known_at, 2 March; goalkeeper-leak closes on 1 March.
    later = json_out(runner, "leaderboard", "--from", "2026-03-01T12:00:00Z")
    earlier = json_out(runner, "leaderboard", "--to", "2026-03-01T12:00:00Z")
    assert {r["questions"] for r in later} == {r["questions"] for r in earlier} == {1}
    assert json_out(runner, "leaderboard", "--from", "2026-03-03") == []
    csv_text = runner("leaderboard", "--format", "csv").stdout.splitlines()
    assert csv_text[0].startswith("rank,user,questions,brier")
    assert len(csv_text) == 3


def test_force_reresolution_changes_scores_and_leaderboard(runner, tmp_path, reference):
    load(runner, tmp_path, reference["bundles"][0]["bundle"])
    before = json_out(runner, "leaderboard", "--metric", "brier")
    result = runner("resolve", "strike-before-2026-01-11", "no", "--force")
    assert result.exit_code == 0, result.stderr
    after = json_out(runner, "leaderboard", "--metric", "brier")
    assert [r["user"] for r in after] == ["bob", "alice", "carol"]
    assert [r["user"] for r in before] == ["carol", "alice", "bob"]
    scores = json_out(runner, "scores", "strike-before-2026-01-11")
    assert scores["outcome"] == "no"
    assert close(scores["users"]["bob"]["brier"], 2 * 0.3 ** 2)
    runner("annul", "strike-before-2026-01-11", "--reason", "void", "--force")
    assert json_out(runner, "leaderboard") == []
    assert json_out(runner, "scores", "strike-before-2026-01-11")["users"] == {}


def test_failed_rescore_keeps_previous_scores(runner, tmp_path, reference, monkeypatch):
    load(runner, tmp_path, reference["bundles"][0]["bundle"])
    before = json_out(runner, "leaderboard")
    import scoring

    def broken(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(scoring, "score_questions", broken)
    with pytest.raises(RuntimeError):
        runner("rescore")
    monkeypatch.undo()
    assert json_out(runner, "leaderboard") == before


def test_scores_of_unresolved_question_is_an_error(runner, tmp_path):
    load(runner, tmp_path, bundle())
    result = runner("scores", "strike-2027")
    assert result.exit_code != 0 and "not resolved" in result.stderr


def test_calibration_outputs_and_plot(runner, tmp_path, reference):
    load(runner, tmp_path, reference["bundles"][0]["bundle"])
    doc = json_out(runner, "calibration", "alice")
    assert doc["questions"] == 1
    by_bin = {round(b["low_edge"], 1): b for b in doc["bins"] if b["count"]}
    assert set(by_bin) == {0.6, 0.9}
    assert close(by_bin[0.6]["weight"], 0.4) and close(by_bin[0.9]["weight"], 0.6)
    m = doc["murphy"]
    assert close(m["reliability"] - m["resolution"] + m["uncertainty"], m["brier"])
    assert close(m["brier"], 0.4 * 0.16 + 0.6 * 0.01)
    crowd = json_out(runner, "calibration", "crowd")
    assert crowd["questions"] == 1
    assert close(sum(b["weight"] for b in crowd["bins"]), 1.0)
    for ext in ("svg", "png"):
        path = tmp_path / f"cal.{ext}"
        result = runner("calibration", "alice", "--plot", path)
        assert result.exit_code == 0
        assert path.stat().st_size > 1000
        assert f"wrote {path.resolve()}" in result.stdout.splitlines()  # says where it went
    # With --format json the path goes to stderr, so stdout stays one JSON document.
    result = runner("calibration", "alice", "--plot", "rel.svg", "--format", "json")
    assert json.loads(result.stdout)["user"] == "alice"
    assert f"wrote {tmp_path / 'rel.svg'}" in result.stderr
    bad = runner("calibration", "alice", "--plot", tmp_path / "cal.pdf")
    assert bad.exit_code != 0 and ".svg or .png" in bad.stderr
    assert runner("calibration", "nobody").exit_code != 0


def test_score_blocks_hold_exactly_the_stored_rows(runner, tmp_path, reference, database):
    # The leaderboard reads the packed blocks; they must agree with question_scores
    # through resolution, correction and annulment.
    from sqlalchemy import select

    from forecasts.models import QuestionScore, QuestionScoreBlock
    from forecasts.queries import SCORE_RECORD

    def both():
        with database.session() as s:
            rows = [tuple(r) for r in s.execute(select(
                QuestionScore.question_id, QuestionScore.user_id, QuestionScore.brier,
                QuestionScore.log, QuestionScore.peer, QuestionScore.coverage,
                QuestionScore.crps)
                .order_by(QuestionScore.question_id, QuestionScore.user_id))]
            # A block's NaN is the table's NULL (crps of a binary question).
            packed = [(q, *(None if x != x else x for x in r.tolist())) for q, data in s.execute(select(
                QuestionScoreBlock.question_id, QuestionScoreBlock.data)
                .order_by(QuestionScoreBlock.question_id))
                for r in np.frombuffer(data, SCORE_RECORD)]
        return rows, packed

    load(runner, tmp_path, reference["bundles"][1]["bundle"])
    rows, packed = both()
    assert rows and packed == rows
    slug = next(q["slug"] for q in reference["bundles"][1]["bundle"]["questions"]
                if q.get("resolution") and q["resolution"]["outcome"] != "annulled")
    assert runner("annul", slug, "--reason", "void", "--force").exit_code == 0
    rows_after, packed_after = both()
    assert packed_after == rows_after and len(rows_after) < len(rows)
    assert runner("rescore").exit_code == 0
    rows_again, packed_again = both()
    assert packed_again == rows_again
    # Rescoring everything may sum in another order: equal to rounding.
    assert np.allclose(np.array(rows_again, float), np.array(rows_after, float), rtol=1e-12,
                       atol=1e-12, equal_nan=True)


def test_standing_is_the_users_leaderboard_row(runner, tmp_path, reference, database):
    # The profile page's standing draws one user's interval; it must be the
    # full leaderboard's row, and None for a user with no scored question.
    from sqlalchemy import select

    from forecasts.models import User
    from forecasts.services import leaderboard as board

    load(runner, tmp_path, reference["bundles"][1]["bundle"])
    with database.session() as s:
        rows = board.leaderboard(s, n_boot=300, seed=5)
        users = {u.username: u for u in s.scalars(select(User))}
        assert len(rows) >= 2
        for row in rows:
            one, ranked = board.standing(s, users[row["user"]], n_boot=300, seed=5)
            assert ranked == len(rows)
            assert {k: v for k, v in one.items() if k != "interval"} == \
                {k: v for k, v in row.items() if k != "interval"}
            assert one["interval"] == pytest.approx(row["interval"], rel=1e-12)
        unranked = [u for name, u in users.items() if name not in {r["user"] for r in rows}]
        assert unranked  # dan forecasts only on unscored questions
        for user in unranked:
            assert board.standing(s, user, n_boot=300, seed=5) == (None, len(rows))


def test_leaderboard_defaults_to_global_peer_with_the_configured_prior(runner, tmp_path,
                                                                        reference, env):
    from tests.conftest import Runner

    load(runner, tmp_path, reference["bundles"][1]["bundle"])
    rows = json_out(runner, "leaderboard", "--with-crowd")
    assert rows == json_out(runner, "leaderboard", "--metric", "peer_global", "--with-crowd")
    ranked = rows[:-1]
    assert [r["peer_global"] for r in ranked] == sorted((r["peer_global"] for r in ranked),
                                                        reverse=True)
    for row in ranked:  # coverage sums below 30: the sum of peer over 30
        assert close(row["peer_global"], row["peer_total"] / 30)
    assert rows[-1] | {"questions": None} == {
        "rank": None, "user": "crowd", "questions": None, "brier": rows[-1]["brier"],
        "log": rows[-1]["log"], "peer": None, "peer_total": None, "peer_global": None,
        "relative_brier": 0.0, "coverage": None, "interval": None, "crps": None}
    # LEADERBOARD_PEER_PRIOR=0.5: the coverage sum (about 1.5) is now the larger.
    small = json_out(Runner({**env, "LEADERBOARD_PEER_PRIOR": "0.5"}, tmp_path), "leaderboard")
    for row in small:
        assert close(row["peer_global"], row["peer_total"] / (2 * row["coverage"]))
    bad = Runner({**env, "LEADERBOARD_PEER_PRIOR": "0"}, tmp_path)("leaderboard")
    assert bad.exit_code != 0 and "LEADERBOARD_PEER_PRIOR" in bad.stderr
    table = runner("leaderboard").stdout.splitlines()
    assert table[0].split()[:9] == ["rank", "user", "questions", "brier", "log", "peer",
                                    "peer_total", "peer_global", "relative_brier"]


@pytest.mark.parametrize("value, ok", [("12.5", 12.5), ("30", 30.0), ("0", None),
                                       ("-1", None), ("nan", None), ("inf", None),
                                       ("thirty", None)])
def test_peer_prior_setting(value, ok):
    from forecasts import config
    from forecasts.errors import ConfigError

    if ok is None:
        with pytest.raises(ConfigError, match="LEADERBOARD_PEER_PRIOR"):
            config.load(environ={"LEADERBOARD_PEER_PRIOR": value})
    else:
        assert config.load(environ={"LEADERBOARD_PEER_PRIOR": value})["LEADERBOARD_PEER_PRIOR"] == ok
