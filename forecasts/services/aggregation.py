"""The configured crowd aggregator (CROWD_AGGREGATOR, CROWD_EXTREMIZE_A) and the rule
that the stored crowd figures follow it.

The crowd's stored figures are its scores (`crowd_scores`, each row naming the
aggregator that made it) and the question figures' crowd (`question_stats`; the
aggregator of their last full recomputation is the `crowd-aggregator` counter). When
the configured aggregator is another, `follow` rescores every question and recomputes
every question's figures in the caller's transaction (bumping the score version, so
leaderboard snapshots, whose relative Brier reads the crowd's, are drawn again).
"""
from __future__ import annotations

import struct
from typing import Any, Mapping

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

import scoring
from forecasts import config
from forecasts.models import Counter, CrowdScore

COUNTER = "crowd-aggregator"


def configured(settings: Mapping[str, Any]) -> scoring.Aggregator:
    """The aggregator the settings name (their defaults for the keys they lack)."""
    name = settings.get("CROWD_AGGREGATOR", config.DEFAULTS["CROWD_AGGREGATOR"])
    a = settings.get("CROWD_EXTREMIZE_A", config.DEFAULTS["CROWD_EXTREMIZE_A"])
    return scoring.aggregator(name, a=float(a))


def label(agg: scoring.Aggregator) -> str:
    """How `crowd_scores.aggregator` names it: "median", "recency_median",
    "extremized_mean:1.5" (the factor as Python's shortest exact repr)."""
    return f"{agg.name}:{agg.a!r}" if agg.name == "extremized_mean" else agg.name


def _code(agg: scoring.Aggregator) -> int:
    """The counter's value for `agg`, exactly: 0 median, 1 recency_median, and minus the
    IEEE-754 bits of a (a positive double, so its bits are >= 1) for extremized_mean."""
    if agg.name != "extremized_mean":
        return scoring.AGGREGATORS.index(agg.name)
    return -struct.unpack("<q", struct.pack("<d", agg.a))[0]


def _decoded(code: int | None) -> scoring.Aggregator:
    if code is None:  # never recorded: the figures were made by the median (before 0008)
        return scoring.MEDIAN
    if code >= 0:
        return scoring.aggregator(scoring.AGGREGATORS[code])
    return scoring.aggregator("extremized_mean", a=struct.unpack("<d", struct.pack("<q", -code))[0])


def stored(session: Session, agg: scoring.Aggregator) -> tuple[scoring.Aggregator, bool]:
    """The aggregator of the question figures' crowd, and whether any crowd score row
    was made by another than `agg`: one statement."""
    row = session.execute(select(
        select(Counter.value).where(Counter.name == COUNTER).scalar_subquery(),
        exists().where(CrowdScore.aggregator != label(agg)))).one()
    return _decoded(None if row[0] is None else int(row[0])), bool(row[1])


def differs(session: Session, agg: scoring.Aggregator) -> bool:
    """Whether any stored crowd figure was made by another aggregator than `agg`."""
    figures, other_scores = stored(session, agg)
    return other_scores or figures != agg


def record(session: Session, agg: scoring.Aggregator) -> None:
    """Note that every question's figures now hold `agg`'s crowd (caller's transaction)."""
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)
    stmt = insert(Counter).values(name=COUNTER, value=_code(agg))
    session.execute(stmt.on_conflict_do_update(index_elements=[Counter.name],
                                               set_={"value": _code(agg)}))


def recompute(session: Session, agg: scoring.Aggregator) -> int:
    """Rescore every question and recompute every question's figures with `agg`, and
    record it; returns the score rows written."""
    from forecasts.services import question_stats, scores

    n = scores.rescore_questions(session, None, aggregator=agg)
    question_stats.refresh(session, None, aggregator=agg)
    record(session, agg)
    return n


def follow(session: Session, agg: scoring.Aggregator) -> bool:
    """Recompute the crowd's stored figures if another aggregator made any of them;
    True if it did. When nothing changed this is one small query."""
    if not differs(session, agg):
        return False
    recompute(session, agg)
    return True
