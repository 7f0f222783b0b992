"""Numeric and date questions on the leaderboard (the crps metric; log, peer and
peer_global as for other kinds; the Brier board untouched) and in calibration (PIT
histogram and central-interval coverage, per user and for the crowd), against plain
means and a plain-Python reading of the forecasts."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sqlalchemy import select

from forecasts.models import CrowdScore, Question, QuestionScore, User
from tests import numeric_world as w
from tests.scoring import numeric_reference as ref

TOL = 1e-9


def json_out(runner, *args):
    result = runner(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _load_binary(runner, tmp_path, reference) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(reference["bundles"][1]["bundle"]))
    assert runner("import", path).exit_code == 0


def _stored(database):
    """(username, kind, brier, crps, log, peer, coverage) per stored score row."""
    with database.session() as session:
        return session.execute(
            select(User.username, Question.kind, QuestionScore.brier, QuestionScore.crps,
                   QuestionScore.log, QuestionScore.peer, QuestionScore.coverage)
            .join(User, User.id == QuestionScore.user_id)
            .join(Question, Question.id == QuestionScore.question_id)).all()


def _mean(values):
    return sum(values) / len(values) if values else None


def test_crps_board_is_the_plain_mean_and_numeric_questions_join_the_others(
        runner, tmp_path, reference, database):
    _load_binary(runner, tmp_path, reference)
    brier_before = json_out(runner, "leaderboard", "--metric", "brier", "--with-crowd")
    # Two of the numeric forecasters also forecast the binary bundle's questions.
    users = [r["user"] for r in brier_before if r["rank"] is not None]
    w.scored_world(database, names=(users[0], users[1], "ana", "ben"))
    rows = _stored(database)
    # The Brier board is over the questions with a Brier: numeric ones change nothing.
    assert json_out(runner, "leaderboard", "--metric", "brier", "--with-crowd") == brier_before

    crps = json_out(runner, "leaderboard", "--metric", "crps", "--with-crowd")
    ranked = [r for r in crps if r["rank"] is not None]
    assert {r["user"] for r in ranked} == {users[0], users[1], "ana", "ben"}
    for r in ranked:
        mine = [row.crps for row in rows if row.username == r["user"] and row.crps is not None]
        assert r["questions"] == len(mine) == 3
        assert r["crps"] == pytest.approx(_mean(mine), abs=TOL, rel=TOL)
        assert r["interval"] is not None and r["interval"][0] <= r["crps"] <= r["interval"][1]
    assert [r["crps"] for r in ranked] == sorted(r["crps"] for r in ranked)  # lower is better
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    with database.session() as session:
        crowd = [c for c in session.scalars(select(CrowdScore.crps)) if c is not None]
    assert crps[-1]["user"] == "crowd" and crps[-1]["questions"] == 3
    assert crps[-1]["crps"] == pytest.approx(_mean(crowd), abs=TOL, rel=TOL)

    # The default board: every question counts for log and peer; Brier and CRPS are
    # each the mean over the questions that have one.
    default = json_out(runner, "leaderboard")
    for r in default:
        mine = [row for row in rows if row.username == r["user"]]
        assert r["questions"] == len(mine)
        assert r["log"] == pytest.approx(_mean([m.log for m in mine]), abs=TOL, rel=TOL)
        assert r["peer_total"] == pytest.approx(sum(m.peer for m in mine), abs=TOL, rel=TOL)
        assert r["peer_global"] == pytest.approx(
            sum(m.peer for m in mine) / max(30.0, sum(m.coverage for m in mine)), abs=TOL)
        briers = [m.brier for m in mine if m.brier is not None]
        crpss = [m.crps for m in mine if m.crps is not None]
        assert (r["brier"] is None) == (not briers) and (r["crps"] is None) == (not crpss)
        if briers:
            assert r["brier"] == pytest.approx(_mean(briers), abs=TOL, rel=TOL)
        if crpss:
            assert r["crps"] == pytest.approx(_mean(crpss), abs=TOL, rel=TOL)
    assert any(r["brier"] is None for r in default)  # ana and ben have only numeric ones
    kinds = {m.kind for m in rows if m.username == users[0]}
    assert {"numeric", "date"} < kinds  # and a binary or multiple-choice one


def test_crps_metric_is_offered_by_the_page_and_the_api(client, database):
    w.scored_world(database)
    page = client.get("/leaderboard?metric=crps")
    assert page.status_code == 200 and 'value="crps" selected' in page.text
    assert 'id="numeric"' in client.get("/help/scoring").text  # the CRPS explained
    api = client.get("/api/v1/leaderboard?metric=crps")
    assert api.status_code == 200
    assert [r["user"] for r in api.json] == [r["user"] for r in sorted(
        api.json, key=lambda r: (r["crps"], r["user"]))]


def _plain_points(questions, forecasts, crowd: bool):
    """(question, cdf, y, lo, hi, weight) of each standing forecast (or crowd interval)
    by a sweep over event times, in plain Python."""
    out = []
    for q in range(len(questions["open_at"])):
        t0, t1 = questions["open_at"][q], questions["end_at"][q]
        y, lo, hi = (questions[k][q] for k in ("outcome", "range_min", "range_max"))
        mine = sorted((i for i in range(len(forecasts["at"]))
                       if forecasts["question"][i] == q and t0 <= forecasts["at"][i] < t1),
                      key=lambda i: (forecasts["at"][i], forecasts["id"][i]))
        if crowd:
            standing = {}
            for j, i in enumerate(mine):
                standing[forecasts["user"][i]] = forecasts["cdf"][i]
                end = forecasts["at"][mine[j + 1]] if j + 1 < len(mine) else t1
                dt = end - forecasts["at"][i]
                if dt > 0:
                    members = list(standing.values())
                    mean = [sum(c[k] for c in members) / len(members) for k in range(201)]
                    out.append((q, mean, y, lo, hi, dt / (t1 - forecasts["at"][mine[0]])))
            continue
        for j, i in enumerate(mine):
            u = forecasts["user"][i]
            later = [k for k in mine[j + 1:] if forecasts["user"][k] == u]
            end = forecasts["at"][later[0]] if later else t1
            first = next(forecasts["at"][k] for k in mine if forecasts["user"][k] == u)
            if end > forecasts["at"][i]:
                out.append((q, forecasts["cdf"][i], y, lo, hi,
                            (end - forecasts["at"][i]) / (t1 - first)))
    return out


def _plain_calibration(points):
    hist = [0.0] * 10
    covered = {"50": 0.0, "90": 0.0}
    total = 0.0
    for _, cdf, y, lo, hi, weight in points:
        p = ref.pit(cdf, y, lo, hi)
        hist[min(int(p * 10), 9)] += weight
        for key, level in (("50", 0.5), ("90", 0.9)):
            a = ref.quantile(cdf, lo, hi, (1 - level) / 2)
            b = ref.quantile(cdf, lo, hi, (1 + level) / 2)
            covered[key] += weight * (a <= y <= b)
        total += weight
    return hist, {k: v / total for k, v in covered.items()}, total


@pytest.mark.parametrize("who", ["ana", "crowd"])
def test_numeric_calibration_matches_a_plain_reading(runner, database, who):
    slugs = w.scored_world(database)
    doc = json_out(runner, "calibration", who)
    with database.session() as session:
        _, questions, forecasts = w.plain_inputs(session, slugs)
        ana = session.query(User).filter_by(username="ana").one().id
    if who != "crowd":
        keep = [i for i in range(len(forecasts["user"])) if forecasts["user"][i] == ana]
        forecasts = {k: [v[i] for i in keep] for k, v in forecasts.items()}
    hist, coverage, total = _plain_calibration(_plain_points(questions, forecasts,
                                                             who == "crowd"))
    numeric = doc["numeric"]
    assert numeric["questions"] == 3
    assert total == pytest.approx(3.0, abs=TOL)  # every question weighs 1
    assert [b["weight"] for b in numeric["pit"]] == pytest.approx(hist, abs=TOL)
    assert [b["density"] for b in numeric["pit"]] == pytest.approx(
        [h * 10 / total for h in hist], abs=TOL)
    assert numeric["coverage"] == pytest.approx(coverage, abs=TOL)
    assert doc["questions"] == 0 and doc["murphy"] is None  # no binary question here
    table = runner("calibration", who)
    assert table.exit_code == 0 and "numeric and date: 3 questions" in table.stdout


def test_calibration_without_numeric_questions_has_none(runner, tmp_path, reference):
    _load_binary(runner, tmp_path, reference)
    doc = json_out(runner, "calibration", "crowd")
    assert doc["numeric"] is None and doc["murphy"] is not None
    np.testing.assert_allclose(sum(b["weight"] for b in doc["bins"]), doc["questions"])


def test_resolved_notification_and_mail_carry_the_crps(database):
    from forecasts import config
    from forecasts.models import MailMessage, Notification
    from forecasts.services import notifications

    settings = config.load({"SECRET_KEY": "test-secret", "SITE_URL": "https://f.example",
                            "STALE_DAYS": 30}, environ={})
    w.scored_world(database)
    with database.transaction() as session:
        ana = session.query(User).filter_by(username="ana").one()
        ana.email, ana.email_verified_at = "ana@example.org", w.T0
    lines = notifications.run_due(database, now=w.at(86400 * 400), settings=settings)
    assert any("notified resolved: rain" in line for line in lines)
    with database.session() as session:
        ana = session.query(User).filter_by(username="ana").one()
        rain = session.query(Question).filter_by(slug="rain").one()
        stored = session.get(QuestionScore, (rain.id, ana.id))
        [note] = session.scalars(select(Notification).where(
            Notification.user_id == ana.id, Notification.kind == "resolved",
            Notification.question_id == rain.id)).all()
        payload = json.loads(note.payload_json)
        assert payload["brier"] is None and payload["crps"] == stored.crps
        bodies = [m.body_text for m in session.scalars(select(MailMessage))]
    assert bodies and all("Brier" not in b for b in bodies)
    assert any(f"CRPS {stored.crps:.3f}" in b for b in bodies)


def test_question_page_shows_crps_for_a_resolved_numeric_question(client, database):
    w.scored_world(database)
    with database.session() as session:
        crowd = session.get(CrowdScore, session.query(Question).filter_by(slug="rain").one().id)
    page = client.get("/questions/rain")
    assert page.status_code == 200
    assert "Crowd CRPS" in page.text and f"{crowd.crps:.3f}" in page.text
    assert "Crowd Brier" not in page.text


def test_profile_and_comparisons_leave_numeric_questions_out(client, runner, tmp_path,
                                                            reference, database):
    _load_binary(runner, tmp_path, reference)
    users = [r["user"] for r in json_out(runner, "leaderboard")]
    before = client.get(f"/api/v1/users/{users[0]}/compare?with={users[1]}").json
    crowd_before = client.get(f"/api/v1/users/{users[0]}/compare").json
    w.scored_world(database, names=(users[0], users[1], "ana", "ben"))
    assert client.get(f"/users/{users[0]}").status_code == 200
    assert client.get(f"/users/{users[0]}?compare={users[1]}").status_code == 200
    # Compared over the questions with a Brier, as before the numeric ones.
    assert client.get(f"/api/v1/users/{users[0]}/compare?with={users[1]}").json == before
    assert client.get(f"/api/v1/users/{users[0]}/compare").json == crowd_before


def test_tournament_standings_with_only_numeric_questions(client, database):
    from forecasts.services import tournaments

    w.scored_world(database)
    with database.transaction() as session:
        tournaments.create(session, "numbers-2026", "Numbers 2026")
        tournaments.add_questions(session, "numbers-2026", ["rain", "gdp"])
        for name in ("ana", "ben"):
            tournaments.join(session, "numbers-2026", name)
    with database.session() as session:
        standings = tournaments.leaderboard(session, "numbers-2026")
        stored = _stored(database)
    assert {s.user for s in standings} == {"ana", "ben"}
    for s in standings:
        mine = [r for r in stored if r.username == s.user and r.kind == "numeric"]
        assert s.questions == 2 and s.brier is None  # no Brier on numeric questions
        assert s.peer_total == pytest.approx(sum(r.peer for r in mine), abs=TOL)
    assert client.get("/tournaments/numbers-2026").status_code == 200
