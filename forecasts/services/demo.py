"""The demo data set: US-Mexico security and trade questions, 40 synthetic forecasters.

Deterministic: the same seed gives the same bundle. Forecasters differ in skill
(noise), calibration (over- and under-confidence) and activity; their forecasts
drift towards the outcome as its resolution date approaches.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecasts import cdf, timeutil
from forecasts.models import CONTINUOUS_KINDS, Comment, Forecast, Question, User
from forecasts.services import comments
from forecasts.passwords import Passwords
from forecasts.services.bundle import FORMAT, import_bundle
from forecasts.services.users import create_user

SEED = 20250301
# Forecasts stop here so the demo looks the same whenever it is seeded.
AS_OF = datetime(2026, 11, 25, tzinfo=timeutil.UTC)
LOGIN, PASSWORD = "demo", "forecast-together"
# A demo forecaster is a member of a demo tournament when they forecast this many of its
# questions.
JOIN_AFTER = 4
NAMES = (
    "ana_reyes", "bkowalski", "carmen.v", "dmitri", "elena_g", "fatima.h", "gabe", "hiro_t",
    "ines", "jmorales", "kwame", "lucia.p", "marco_b", "nadia", "oscar.l", "priya",
    "quentin", "rosa_m", "sam.k", "tomas", "uma", "victor_h", "wen.li", "ximena",
    "yusuf", "zoe.c", "aleksandra", "bruno", "chiara", "diego_f", "emma.w", "felipe",
    "grace.o", "hector", "isabel_r", "jonas", "keiko", "leo.m", "maya_s", "nico",
)
# (name, noise in logits, confidence multiplier): >1 is overconfident, <1 timid.
PROFILES = (("sharp", 0.35, 1.0), ("calibrated", 0.7, 1.0), ("overconfident", 0.7, 1.9),
            ("timid", 0.6, 0.55), ("noisy", 1.4, 1.15))
RATIONALES = {
    "security": ["Sheinbaum has ruled this out publicly; the constitutional bar is high.",
                 "Unilateral action would cost Washington the intelligence cooperation it needs.",
                 "Leaks and DEA statements suggest planning is further along than admitted.",
                 "Base rate of such operations without consent is very low."],
    "trade": ["Tariff threats have been used as leverage and then partly withdrawn.",
              "USMCA exemptions cover most goods, which caps the effective rate.",
              "The administration ties tariffs to fentanyl numbers; those are improving."],
    "diplomacy": ["Mexico is diversifying partners; talks with Ottawa are active.",
                  "Signing takes longer than announcing: I discount press statements.",
                  "Regional initiatives are more likely than European ones."],
    "fentanyl": ["Seizure reports have risen every quarter this year.",
                 "Precursor supply shifts to other routes when one is squeezed.",
                 "Overdose counts lag by months; the trend is down."],
}


def _load() -> dict[str, Any]:
    text = resources.files("forecasts").joinpath("demo_data/questions.json").read_text("utf-8")
    return json.loads(text)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _round_vector(p: np.ndarray) -> list[float]:
    """Two decimals, each at least 0.01, summing to exactly 1 (largest takes the rest)."""
    cents = np.maximum(np.round(p * 100).astype(int), 1)
    cents[np.argmax(cents)] += 100 - cents.sum()
    return [c / 100 for c in cents.tolist()]


def _target(q: dict[str, Any]) -> np.ndarray:
    """Where well-informed belief ends up: near the outcome, or at the latent probability."""
    demo, options = q["demo"], q.get("options", ["no", "yes"])
    if "outcome" in demo and demo["outcome"] != "annulled":
        hit = np.array([o == demo["outcome"] for o in options], float)
        return 0.9 * hit + 0.1 / len(options)
    latent = demo.get("latent", 0.5)
    if isinstance(latent, list):
        return np.array(latent, float)
    return np.array([1 - latent, latent]) if "outcome" not in demo else np.array([0.5, 0.5])


def _window(q: dict[str, Any]) -> tuple[datetime, float]:
    """The opening and the seconds from it to the last moment a demo forecast is made."""
    opens = timeutil.parse(q["open_at"], where="open_at")
    known = q["demo"].get("known_at")
    end = min(timeutil.parse(q["close_at"], where="close_at"), AS_OF,
              timeutil.parse(known, where="known_at") if known else AS_OF)
    return opens, (end - opens).total_seconds()


def _forecasts_for(q: dict[str, Any], users: list[dict], rng: np.random.Generator) -> list[dict]:
    if q["kind"] in CONTINUOUS_KINDS:
        return _distributions_for(q, users, rng)
    opens, span = _window(q)
    if span <= 0:
        return []
    k = len(q.get("options", ["no", "yes"]))
    prior = np.log(rng.dirichlet(np.full(k, 3.0)))
    target = np.log(_target(q))
    out = []
    for u in users:
        if rng.random() > u["activity"]:
            continue
        n = 1 + rng.poisson(u["updates"] * span / (120 * 86400))
        offsets = np.sort(rng.random(n) ** 1.3) * span
        for off in offsets:
            phase = (off / span) ** 0.8
            belief = (1 - phase) * prior + phase * target
            belief = u["confidence"] * (belief + u["noise"] * rng.standard_normal(k))
            p = np.exp(belief - belief.max())
            p /= p.sum()
            at = opens + timedelta(seconds=int(off) // 60 * 60)
            entry = {"question": q["slug"], "user": u["name"], "at": timeutil.iso(at)}
            if k == 2:
                entry["probability"] = float(np.clip(np.round(p[1], 2), 0.01, 0.99))
            else:
                entry["probabilities"] = _round_vector(p)
            if rng.random() < 0.25:
                pool = RATIONALES[q["tags"][0]]
                entry["rationale"] = pool[int(rng.integers(len(pool)))]
            out.append(entry)
    return out


def _scale_value(q: dict[str, Any], value: Any) -> float:
    """A demo figure on the question's scale: a number, or a date in epoch seconds."""
    if q["kind"] == "date":
        return timeutil.parse(value, where="demo").timestamp()
    return float(value)


def _distributions_for(q: dict[str, Any], users: list[dict], rng: np.random.Generator
                       ) -> list[dict]:
    """Numeric and date forecasts: each a logistic belief given by its 10th, 50th and 90th
    percentiles (cdf.quantiles_to_cdf), whose centre drifts from a shared prior to the
    truth as the close nears; noise moves the centre, confidence narrows the spread (an
    overconfident forecaster's 80% interval is too narrow, a timid one's too wide)."""
    opens, span = _window(q)
    if span <= 0:
        return []
    demo = q["demo"]
    lo, hi = (_scale_value(q, q["range"][end]) for end in ("min", "max"))
    truth = _scale_value(q, demo["value"] if "value" in demo else demo["center"])
    prior = _scale_value(q, demo["prior"])
    scale = demo["scale_days"] * 86400.0 if q["kind"] == "date" else float(demo["scale"])
    margin = (hi - lo) / 400  # keeps quantiles strictly inside a closed side
    out = []
    for u in users:
        if rng.random() > u["activity"]:
            continue
        n = 1 + rng.poisson(u["updates"] * span / (120 * 86400))
        for off in np.sort(rng.random(n) ** 1.3) * span:
            phase = (off / span) ** 0.8
            centre = (1 - phase) * prior + phase * truth + u["noise"] * scale * rng.standard_normal()
            half = np.log(9.0) * scale * (1.1 - 0.6 * phase) / u["confidence"]  # 10th to 50th
            points = np.clip(centre + half * np.array([-1.0, 0.0, 1.0]),
                             lo if q["open_lower"] else lo + margin,
                             hi if q["open_upper"] else hi - margin)
            if not points[0] < points[1] < points[2]:
                continue  # a belief squeezed against a closed side: no forecast this time
            values = cdf.quantiles_to_cdf(dict(zip((0.1, 0.5, 0.9), points.tolist())), lo, hi,
                                          q["open_lower"], q["open_upper"])
            at = opens + timedelta(seconds=int(off) // 60 * 60)
            out.append({"question": q["slug"], "user": u["name"], "at": timeutil.iso(at),
                        "cdf": values.tolist()})  # on the 2**-24 grid: 804 bytes stored
    return out


def _resolution(q: dict[str, Any]) -> dict[str, Any] | None:
    demo = q["demo"]
    if "value" in demo:
        settled = timeutil.parse(demo.get("known_at") or q["close_at"], where="known_at")
        return {"value": demo["value"], "note": demo.get("note", ""), "source": "import",
                "resolved_by": "admin", "resolved_at": timeutil.iso(settled + timedelta(hours=6))}
    if "outcome" not in demo:
        return None
    settled = timeutil.parse(demo.get("known_at") or q["close_at"], where="known_at")
    doc = {"outcome": demo["outcome"], "note": demo.get("note", ""),
           "source": demo.get("source", "import"),
           "resolved_by": "rule" if demo.get("source") == "rule" else "admin",
           "resolved_at": timeutil.iso(settled + timedelta(hours=6))}
    if demo["outcome"] != "annulled":
        doc["known_at"] = demo.get("known_at")
    return doc


def build_bundle(seed: int = SEED) -> dict[str, Any]:
    """The demo data set as a bundle document."""
    rng = np.random.default_rng(seed)
    data = _load()
    users = []
    for i, name in enumerate(NAMES):
        _, noise, confidence = PROFILES[i % len(PROFILES)]
        users.append({"name": name, "noise": noise * rng.uniform(0.8, 1.2),
                      "confidence": confidence * rng.uniform(0.9, 1.1),
                      "activity": rng.uniform(0.3, 0.85), "updates": rng.uniform(0.5, 3.0)})
    questions, forecasts = [], []
    for q in data["questions"]:
        questions.append({**{k: v for k, v in q.items() if k != "demo"}, "resolution": _resolution(q)})
        forecasts.extend(_forecasts_for(q, users, rng))
    forecasts.sort(key=lambda f: f["at"])
    return {"format": FORMAT, "users": [{"username": u["name"]} for u in users],
            "questions": questions, "forecasts": forecasts, "observations": data["observations"],
            "tournaments": [_tournament(t, forecasts) for t in data["tournaments"]]}


def _tournament(t: dict[str, Any], forecasts: list[dict]) -> dict[str, Any]:
    """A demo tournament whose members are the forecasters of at least JOIN_AFTER of its
    questions (people who joined what they were already forecasting), by username."""
    chosen = set(t["questions"])
    seen: dict[str, set[str]] = {}
    for f in forecasts:
        if f["question"] in chosen:
            seen.setdefault(f["user"], set()).add(f["question"])
    members = sorted(name for name, qs in seen.items() if len(qs) >= JOIN_AFTER)
    return {**t, "members": members}


# Exchanges under the newest rationale of a question: another forecaster of it replies,
# then the rationale's author answers.
DISCUSSIONS = {
    "us-strike-before-2028": (
        "The terrorist designation of the cartels changes the legal footing; I would not "
        "go below 10% until Congress says otherwise.",
        "A designation is not an authorisation: the *War Powers* clock still runs, and "
        "Mexico's consent is the cheaper route."),
    "us-tariff-above-25-by-2027-07": (
        "The USMCA review in July is the real deadline; threats before it are bargaining.",
        "Agreed, but tariffs announced as bargaining have a way of staying."),
    "remittance-tax-raised-2027": (
        "Any source for the draft bill? I only find the 3.5% already enacted.",
        "The House Ways and Means summary; it proposes 5% but has no sponsor yet."),
}


def _discuss(session: Session) -> None:
    """The demo's threads: replies under a few rationales, dated before AS_OF."""
    for slug, (reply, answer) in DISCUSSIONS.items():
        question = session.scalar(select(Question).where(Question.slug == slug))
        if question is None:
            continue
        parent = session.scalar(select(Comment).where(Comment.question_id == question.id,
                                                      Comment.forecast_id.is_not(None))
                                .order_by(Comment.created_at.desc(), Comment.id.desc()))
        other = parent and session.scalar(
            select(User).join(Forecast, Forecast.user_id == User.id)
            .where(Forecast.question_id == question.id, User.id != parent.user_id)
            .order_by(User.username))
        if other is None:
            continue
        at = min(parent.created_at + timedelta(hours=5), AS_OF - timedelta(hours=2))
        first = comments.post_comment(session, question, other, reply, parent_id=parent.id, now=at)
        comments.post_comment(session, question, parent.user, answer, parent_id=first.id,
                              now=at + timedelta(hours=1))


def seed(session: Session, *, passwords: Passwords | None = None) -> dict[str, int] | None:
    """Import the demo bundle and a demo admin login into an empty database; None if not empty."""
    if session.scalar(select(func.count()).select_from(Question)):
        return None
    counts = import_bundle(session, build_bundle(), actor="demo")
    _discuss(session)
    create_user(session, LOGIN, password=PASSWORD, role="admin", passwords=passwords)
    return counts
