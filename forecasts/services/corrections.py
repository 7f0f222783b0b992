"""Resolving, annulling and correcting a question, with the cascade to questions whose
rules read it, and a preview of what a change would do to the leaderboard.

The cascade re-evaluates every conditional/any_of/all_of question downstream of the
changed one, in dependency order, as of the correction's time. A dependent whose rule now
decides differently gets a new resolution (source 'cascade', the old one kept in the audit
log); one whose rule can no longer decide is reopened (its resolution superseded without a
successor); an unsettled one that can now decide is settled. A dependent an administrator
resolved by hand (source 'manual') is left as it is. Everything changed is rescored once,
in the caller's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy.orm import Session

import scoring
from forecasts import timeutil
from forecasts.models import Question, Resolution
from forecasts.rules import Decision, Facts, Settled, decide, dependents
from forecasts.services import resolution as resolutions
from forecasts.services import scores
from forecasts.services.leaderboard import leaderboard
from forecasts.services.rule_inputs import (current_resolutions, effective_known, load_points,
                                            load_world, series_of, settled_as_of)


@dataclass(frozen=True)
class Change:
    """A dependent question's resolution changed by the cascade (`after` None: reopened)."""

    slug: str
    before: str | None
    after: str | None
    reason: str


@dataclass(frozen=True)
class Outcome:
    """The resolution made, and the cascade it caused."""

    resolution: Resolution
    changes: list[Change]


def resolve(session: Session, question: Question, outcome: object, *,
            known_at: datetime | None = None, note: object = "", actor: str,
            force: bool = False, now: datetime | None = None,
            aggregator: scoring.Aggregator = scoring.MEDIAN) -> Outcome:
    """Resolve (or with `force`, correct) a question, cascade, and rescore (the crowd's
    figures made by `aggregator`)."""
    # `now` defaults inside, once the question is locked (see resolution.resolve).
    made = resolutions.resolve(session, question, outcome, known_at=known_at, note=note,
                               actor=actor, force=force, now=now, rescore=False,
                               aggregator=aggregator)
    return _finish(session, question, made, actor=actor, now=made.created_at,
                   aggregator=aggregator)


def annul(session: Session, question: Question, reason: object, *, actor: str,
          force: bool = False, now: datetime | None = None,
          aggregator: scoring.Aggregator = scoring.MEDIAN) -> Outcome:
    """Annul (or with `force`, re-annul a settled) question, cascade, and rescore."""
    made = resolutions.annul(session, question, reason, actor=actor, force=force, now=now,
                             rescore=False, aggregator=aggregator)
    return _finish(session, question, made, actor=actor, now=made.created_at,
                   aggregator=aggregator)


def _finish(session: Session, question: Question, made: Resolution, *, actor: str,
            now: datetime, aggregator: scoring.Aggregator) -> Outcome:
    changes, changed_ids = cascade(session, question.slug, actor=actor, now=now,
                                   aggregator=aggregator)
    scores.rescore_questions(session, [question.id, *changed_ids], aggregator=aggregator)
    return Outcome(made, changes)


def cascade(session: Session, slug: str, *, actor: str, now: datetime,
            aggregator: scoring.Aggregator = scoring.MEDIAN) -> tuple[list[Change], list[int]]:
    """Re-evaluate the questions downstream of `slug` (see the module docstring).

    Returns the changes and the ids of the questions changed; does not rescore.
    """
    world = load_world(session)
    downstream = dependents(world.graph, slug)
    if not downstream:
        return [], []
    current = current_resolutions(session, world)
    outcomes = settled_as_of(session, world, now)
    needed = set().union(*(series_of(world.questions[s].rule) for s in downstream))
    facts = Facts(now, load_points(session, needed, now), outcomes)
    changes: list[Change] = []
    changed: list[int] = []
    for dependent in downstream:
        was = current.get(dependent)
        if was is not None and was.source == "manual":
            continue
        facts_q = world.questions[dependent]
        verdict = decide(facts_q.rule, facts_q, facts)
        row = session.get(Question, world.ids[dependent])
        assert row is not None
        if isinstance(verdict, Decision):
            if was is not None and was.outcome == verdict.outcome and \
                    _same_time(was.known_at, verdict.known_at, facts_q.close_at):
                continue
            resolutions.settle(session, row, verdict.outcome, known_at=verdict.known_at,
                               note=verdict.reason, actor=actor, source="cascade", force=True,
                               now=now, evidence=verdict.evidence, rescore=False,
                               aggregator=aggregator, value=verdict.value)
            outcomes[dependent] = Settled(verdict.outcome, effective_known(
                facts_q, verdict.outcome, verdict.known_at), now)
            changes.append(Change(dependent, was and was.outcome, verdict.outcome, verdict.reason))
        elif was is not None:
            resolutions.reopen(session, row, now=now, aggregator=aggregator)
            outcomes.pop(dependent, None)
            changes.append(Change(dependent, was.outcome, None, verdict.reason))
        else:
            continue
        changed.append(row.id)
    return changes, changed


def _same_time(a: datetime | None, b: datetime | None, close_at: datetime) -> bool:
    return (a or close_at) == (b or close_at)


def preview(session: Session, change: Callable[[], Any], *, metric: str = "brier",
            **board: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Run `change` between two leaderboards and return its result and each user whose row
    differs: {"user", "before", "after"} with the rows (None when absent).

    The caller rolls the session back afterwards: this is how a dry run sees the effect.
    """
    before = {r["user"]: r for r in leaderboard(session, metric=metric, **board)}
    result = change()
    session.flush()
    after = {r["user"]: r for r in leaderboard(session, metric=metric, **board)}
    keys = ("rank", "questions", "brier", "log", "peer", "peer_total")
    diffs = []
    for user in sorted(set(before) | set(after), key=str.lower):
        old, new = before.get(user), after.get(user)
        if old is None or new is None or any(old[k] != new[k] for k in keys):
            diffs.append({"user": user, "before": old, "after": new})
    return result, diffs


def audit_log(session: Session, question: Question) -> list[dict[str, Any]]:
    """The question's resolutions, oldest first, as plain rows for printing."""
    rows = resolutions.history(session, question)
    return [{"made_at": timeutil.iso(r.created_at), "actor": r.actor, "source": r.source,
             "outcome": r.outcome, "known_at": timeutil.iso(r.known_at),
             "superseded_at": timeutil.iso(r.superseded_at),
             "current": r.superseded_at is None, "note": r.note, "evidence": r.evidence}
            for r in rows]


def _standing(row: dict[str, Any] | None) -> str:
    return "absent" if row is None else f"rank {row['rank']}, brier {row['brier']:.4f}"


def board_change(diff: dict[str, Any]) -> str:
    """One line saying how a user's leaderboard row would change."""
    old, new = diff["before"], diff["after"]
    if old is None or new is None:
        return f"{diff['user']}: {_standing(old)} -> {_standing(new)}"
    return (f"{diff['user']}: rank {old['rank']} -> {new['rank']}, brier {old['brier']:.4f} -> "
            f"{new['brier']:.4f}, questions {old['questions']} -> {new['questions']}")
