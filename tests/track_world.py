"""A constructed world for the track record: questions settled over more than a year
(binary and multiple choice, some resolved early, tagged, some in a tournament), and
forecasters with several forecasts each at known times."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from forecasts import timeutil
from forecasts.services import questions, resolution, tournaments
from forecasts.services.forecasts import submit_forecast
from forecasts.services.users import create_user
from tests.builders import SHOW_CROWD, mc_data, question_data

TOURNAMENT = "track-cup"
N_QUESTIONS = 14


@dataclass
class TrackWorld:
    now: datetime
    slugs: list[str]
    tagged: set[str]        # slugs with the tag "tracked"
    in_tournament: set[str]


def build(session, seed: int = 7) -> TrackWorld:
    """alice forecasts every question (several times, sometimes twice at one instant),
    bob and carol most, dora none; every third question is multiple choice; closes
    spread over 500 days before now, a third resolved early (known before the close)."""
    rng = random.Random(seed)
    now = timeutil.now().replace(microsecond=0)
    users = {name: create_user(session, name) for name in ("alice", "bob", "carol", "dora")}
    tournaments.create(session, TOURNAMENT, "Track cup")
    slugs, tagged, cup = [], set(), set()
    for i in range(N_QUESTIONS):
        close = now - timedelta(days=10 + 37 * i, hours=rng.randrange(24))
        length = rng.choice([20, 60, 150, 300])
        opened = close - timedelta(days=length)
        slug = f"track-q{i:02d}"
        tags = ["tracked"] if i % 2 == 0 else ["other"]
        make = mc_data if i % 3 == 2 else question_data
        q = questions.create_question(session, make(
            slug=slug, title=f"Track question {i}", tags=tags, **SHOW_CROWD,
            open_at=timeutil.iso(opened), close_at=timeutil.iso(close)))
        known = close - timedelta(days=rng.randrange(1, length // 3)) if i % 3 == 0 else None
        end = known or close
        for name in ("alice", "bob", "carol"):
            if name != "alice" and rng.random() < 0.25:
                continue
            times = sorted(opened + (end - opened) * rng.random() for _ in range(rng.randint(1, 4)))
            if name == "alice" and i % 4 == 1:
                times.append(times[-1])  # two forecasts at one instant: the later one stands
            for at in times:
                if q.kind == "binary":
                    submit_forecast(session, q, users[name], at=at,
                                    probability=rng.choice([0.05, 0.15, 0.3, 0.5, 0.62, 0.8, 0.97]))
                else:
                    raw = [rng.random() + 0.05 for _ in q.options]
                    submit_forecast(session, q, users[name], at=at,
                                    probabilities=[v / sum(raw) for v in raw])
        outcome = (("yes" if rng.random() < 0.5 else "no") if q.kind == "binary"
                   else rng.choice(q.options))
        resolution.resolve(session, q, outcome, known_at=known, actor="root",
                           now=now - timedelta(days=1))
        slugs.append(slug)
        if "tracked" in tags:
            tagged.add(slug)
        if i % 3 != 1:
            cup.add(slug)
    tournaments.add_questions(session, TOURNAMENT, sorted(cup))
    session.commit()
    return TrackWorld(now, slugs, tagged, cup)
