"""Builders that turn bundle JSON and plain lists into engine inputs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from scoring import Forecasts, Questions

CASES_PATH = Path(__file__).resolve().parents[1] / "reference" / "scoring_cases.json"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def load_cases():
    """The hand-checked reference cases."""
    return json.loads(CASES_PATH.read_text())


def iso_us(text: str) -> int:
    """ISO 8601 UTC timestamp -> integer microseconds since the epoch."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment - _EPOCH) // timedelta(microseconds=1)


def bundle_arrays(bundle):
    """Engine inputs from a bundle: (Questions, Forecasts, slugs, usernames)."""
    slugs = [q["slug"] for q in bundle["questions"]]
    names = [u["username"] for u in bundle.get("users", [])]
    for f in bundle["forecasts"]:
        if f["user"] not in names:
            names.append(f["user"])
    cols = {k: [] for k in ("open_at", "close_at", "end_at", "outcome", "n_options", "ordered")}
    for q in bundle["questions"]:
        options = q.get("options", ["no", "yes"]) if q["kind"] == "multiple_choice" else ["no", "yes"]
        close = iso_us(q["close_at"])
        res = q.get("resolution")
        outcome, end = -1, close
        if res and res["outcome"] != "annulled":
            outcome = options.index(res["outcome"])
            if res.get("known_at"):
                end = min(close, iso_us(res["known_at"]))
        cols["open_at"].append(iso_us(q["open_at"]))
        cols["close_at"].append(close)
        cols["end_at"].append(end)
        cols["outcome"].append(outcome)
        cols["n_options"].append(len(options))
        cols["ordered"].append(bool(q.get("ordered", False)))
    vectors, question, user, at = [], [], [], []
    for f in bundle["forecasts"]:
        question.append(slugs.index(f["question"]))
        user.append(names.index(f["user"]))
        at.append(iso_us(f["at"]))
        if "probability" in f:
            vectors.append([1.0 - f["probability"], f["probability"]])
        else:
            vectors.append(f["probabilities"])
    return (Questions(**cols), Forecasts.from_vectors(question, user, at, vectors),
            slugs, names)


def as_lists(questions: Questions, forecasts: Forecasts):
    """Plain-list copies for the scalar reference implementation."""
    qd = {k: getattr(questions, k).tolist() for k in
          ("open_at", "close_at", "end_at", "outcome", "n_options", "ordered")}
    k = questions.n_options[forecasts.question]
    offsets = np.concatenate(([0], np.cumsum(k)))
    probs = forecasts.probs.tolist()
    fd = {"question": forecasts.question.tolist(), "user": forecasts.user.tolist(),
          "at": forecasts.at.tolist(),
          "probs": [probs[offsets[i]:offsets[i + 1]] for i in range(len(forecasts))]}
    return qd, fd
