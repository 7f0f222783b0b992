"""The demo's numeric and date questions (issue #14 point 5): at least eight, some
resolved, with forecasts that are valid CDFs and whose scores follow the forecasters'
skill profiles."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from forecasts import cdf
from forecasts.models import CONTINUOUS_KINDS, Forecast, Question, QuestionScore, Resolution, User
from forecasts.services import demo


@pytest.fixture(scope="module")
def bundle():
    return demo.build_bundle()


@pytest.fixture
def seeded(database):
    with database.transaction() as s:
        assert demo.seed(s) is not None
    return database


def test_at_least_eight_continuous_questions_some_resolved(bundle):
    continuous = [q for q in bundle["questions"] if q["kind"] in CONTINUOUS_KINDS]
    assert len(continuous) >= 8
    assert {"numeric", "date"} <= {q["kind"] for q in continuous}
    resolved = [q for q in continuous if q["resolution"] is not None]
    assert 0 < len(resolved) < len(continuous)
    slugs = {q["slug"] for q in continuous}
    forecast_on = {f["question"] for f in bundle["forecasts"]}
    assert slugs <= forecast_on  # everyone of them has forecasts


def test_every_demo_cdf_is_valid_for_its_question(bundle):
    sides = {q["slug"]: (q["open_lower"], q["open_upper"])
             for q in bundle["questions"] if q["kind"] in CONTINUOUS_KINDS}
    rows = [f for f in bundle["forecasts"] if "cdf" in f]
    assert len(rows) > 500
    for f in rows:
        lower, upper = sides[f["question"]]
        cdf.validate_cdf(f["cdf"], open_lower=lower, open_upper=upper)


def _profile_of(name: str) -> str:
    return demo.PROFILES[demo.NAMES.index(name) % len(demo.PROFILES)][0]


def test_sharp_forecasters_beat_noisy_ones_on_crps(seeded):
    with seeded.session() as s:
        rows = s.execute(
            select(User.username, QuestionScore.crps)
            .join(QuestionScore, QuestionScore.user_id == User.id)
            .join(Question, Question.id == QuestionScore.question_id)
            .where(Question.kind.in_(CONTINUOUS_KINDS))).all()
        resolved = s.scalar(select(Resolution.id).join(Question, Question.id == Resolution.question_id)
                            .where(Question.kind == "date", Resolution.value.is_not(None)))
        stored = s.scalars(select(Forecast.cdf).where(Forecast.cdf.is_not(None))).all()
    assert resolved is not None  # a date question is settled by a value too
    assert all(len(c) == cdf.ENCODED_BYTES for c in stored)
    by = {}
    for name, value in rows:
        by.setdefault(_profile_of(name), []).append(value)
    assert np.mean(by["sharp"]) < np.mean(by["noisy"])
