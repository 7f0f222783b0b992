"""Small builders that keep test tables readable."""
from __future__ import annotations

import copy
import threading
from typing import Any, Callable

from forecasts.services import questions
from forecasts.services.users import create_user

BASE_QUESTION: dict[str, Any] = {
    "slug": "strike-2027", "title": "Will a strike happen before 2027?",
    "description": "Resolves yes if it happens.", "kind": "binary", "tags": ["security"],
    "open_at": "2026-01-01T00:00:00Z", "close_at": "2027-01-01T00:00:00Z",
    "rule": {"type": "manual"},
}
MC_QUESTION: dict[str, Any] = {
    "slug": "partner-2027", "title": "Next security partner?", "kind": "multiple_choice",
    "options": ["Canada", "EU member", "Latin American neighbour", "None"], "ordered": False,
    "tags": ["diplomacy"], "open_at": "2026-01-01T00:00:00Z", "close_at": "2027-01-01T00:00:00Z",
}


# For tests about the crowd itself: a question that shows it to everyone (new questions
# hide it until one forecasts; tests/test_hidden_crowd.py is about that).
SHOW_CROWD: dict[str, Any] = {"hide_crowd_until_forecast": False}


def question_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_QUESTION)
    data.update(changes)
    return data


def mc_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MC_QUESTION)
    data.update(changes)
    return data


def make_question(session, **changes: Any):
    return questions.create_question(session, question_data(**changes))


def make_user(session, name: str = "alice", **kwargs: Any):
    return create_user(session, name, **kwargs)


def bundle(questions_: list[dict] | None = None, forecasts: list[dict] | None = None,
           users: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A bundle document with one binary question and one forecast unless told otherwise."""
    doc = {
        "format": "forecasts-bundle/1",
        "users": [{"username": u} for u in (users if users is not None else ["alice"])],
        "questions": questions_ if questions_ is not None else [question_data()],
        "forecasts": forecasts if forecasts is not None else [
            {"question": "strike-2027", "user": "alice", "at": "2026-02-01T00:00:00Z",
             "probability": 0.2}],
    }
    doc.update(extra)
    return doc


def errors_in_threads(work: Callable[[int], None], n: int) -> list[BaseException]:
    """Run work(0) ... work(n - 1) in n threads at once; the exceptions they raised."""
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # reported to the caller, which asserts on them
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
