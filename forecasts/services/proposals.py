"""Questions from the web: forecasters propose drafts, admins approve or reject them, and
admins create published questions directly.

A proposal is a question row with review_state 'draft' and its proposer; only the proposer
and the admins see it (questions.can_see) until an admin publishes it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecasts import rules
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import DRAFT, PUBLISHED, REJECTED, Question, User
from forecasts.services.questions import (QuestionSpec, add_question, check_rules,
                                          definition, find_question, parse_question)
from forecasts.services.text import check_storable

# The rules a forecaster may propose; other rules (bins, conditional, any_of, all_of) are
# for admins, who may give any rule as JSON.
PROPOSABLE_RULES = ("manual", "deadline", "threshold")
REASON_LIMIT = 2000
SLUG_LENGTH = 60


@dataclass(frozen=True)
class Checked:
    """A definition that passed every check: the spec and its rule in words."""

    spec: QuestionSpec
    rule_text: str


def slug_from_title(title: str) -> str:
    """"Will the US raise tariffs?" -> "will-the-us-raise-tariffs" (at most 60 characters,
    cut at a word boundary)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > SLUG_LENGTH:
        slug = slug[:SLUG_LENGTH].rsplit("-", 1)[0] if "-" in slug[:SLUG_LENGTH] else slug[:SLUG_LENGTH]
    return slug if len(slug) >= 3 else f"question-{slug}".strip("-")


def unique_slug(session: Session, title: str) -> str:
    """A slug derived from the title that no question (of any review state) uses yet."""
    base = slug_from_title(title)
    taken = set(session.scalars(select(Question.slug).where(
        (Question.slug == base) | Question.slug.like(f"{base}-%"))))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def check(session: Session, data: Mapping[str, Any], *, admin: bool,
          now: datetime) -> Checked:
    """Validate a definition from the web (the slug, if empty, derived from the title):
    the fields (questions.parse_question), the rule (questions.check_rules), a close in
    the future, and, for forecasters, a rule they may propose. Raises InvalidInput."""
    data = dict(data)
    if not data.get("slug"):
        title = data.get("title")
        data["slug"] = unique_slug(session, title) if isinstance(title, str) and title.strip() \
            else "untitled"
    spec = parse_question(data, where="question")
    rule = spec.rule
    if not admin and (not isinstance(rule, Mapping) or rule.get("type") not in PROPOSABLE_RULES):
        raise InvalidInput(f"a proposal's rule is one of {', '.join(PROPOSABLE_RULES)}; "
                           "an admin can set other rules when reviewing it", where="question.rule")
    if spec.close_at <= now:
        raise InvalidInput("must be in the future", where="question.close_at")
    check_rules([spec], session, where=lambda s: "question")
    return Checked(spec, rules.describe(spec.rule, spec))


def propose(session: Session, data: Mapping[str, Any], user: User, *, now: datetime) -> Question:
    """Store a forecaster's proposal as a draft for the admins to review."""
    checked = check(session, data, admin=user.is_admin, now=now)
    return add_question(session, checked.spec, review_state=DRAFT, proposed_by=user)


def create(session: Session, data: Mapping[str, Any], admin: User, *, now: datetime) -> Question:
    """An admin's question, published at once."""
    checked = check(session, data, admin=True, now=now)
    question = add_question(session, checked.spec, proposed_by=admin)
    question.reviewed_by, question.reviewed_at = admin.username, now
    return question


def get_draft(session: Session, slug: str) -> Question:
    """The draft with this slug; NotFound for anything else."""
    question = find_question(session, slug)
    if question is None or question.review_state != DRAFT:
        raise NotFound(f"no proposal waiting with slug {slug!r}", where="question")
    return question


def approve(session: Session, question: Question, *, actor: str, now: datetime) -> Question:
    """Publish a draft, after checking it again (its rule may read questions that changed)."""
    if question.review_state != DRAFT:
        raise Conflict(f"{question.slug} is {question.review_state}, not a draft waiting "
                       "for review", where="question")
    if question.close_at <= now:
        raise Conflict(f"{question.slug} closes before now: edit its dates, then approve it",
                       where="close_at")
    spec = parse_question(definition(question), where="question")
    check_rules([spec], session, where=lambda s: "question")
    question.review_state = PUBLISHED
    question.reviewed_by, question.reviewed_at, question.review_note = actor, now, None
    session.flush()
    return question


def reject(session: Session, question: Question, reason: object, *, actor: str,
           now: datetime) -> Question:
    """Reject a draft with a reason its proposer will read."""
    if question.review_state != DRAFT:
        raise Conflict(f"{question.slug} is {question.review_state}, not a draft waiting "
                       "for review", where="question")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("give the proposer a reason", where="reason")
    if len(reason) > REASON_LIMIT:
        raise InvalidInput(f"is longer than {REASON_LIMIT} characters", where="reason")
    question.review_state = REJECTED
    question.review_note = check_storable(reason.strip(), where="reason")
    question.reviewed_by, question.reviewed_at = actor, now
    session.flush()
    return question


@dataclass(frozen=True)
class Proposal:
    """A question with the name of whoever proposed it."""

    question: Question
    proposer: str | None


def waiting(session: Session) -> list[Proposal]:
    """Drafts waiting for review, oldest first, with their proposers."""
    rows = session.execute(
        select(Question, User.username).outerjoin(User, User.id == Question.proposed_by_id)
        .where(Question.review_state == DRAFT).order_by(Question.created_at, Question.id))
    return [Proposal(q, name) for q, name in rows]


def waiting_count(session: Session) -> int:
    """How many drafts wait for review."""
    return session.scalar(select(func.count()).select_from(Question)
                          .where(Question.review_state == DRAFT)) or 0


def proposals_of(session: Session, user: User) -> list[Question]:
    """A user's proposals (waiting, published and rejected), newest first."""
    return list(session.scalars(select(Question).where(Question.proposed_by_id == user.id)
                                .order_by(Question.created_at.desc(), Question.id.desc())))


def proposer_of(session: Session, question: Question) -> str | None:
    """The username of whoever proposed the question (None for older questions)."""
    if question.proposed_by_id is None:
        return None
    user = session.get(User, question.proposed_by_id)
    return user.username if user else None
