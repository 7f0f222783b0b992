"""Observations: recorded values of named series, the evidence for threshold and bins rules."""
from __future__ import annotations

import csv
import difflib
import io
import json
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Observation, Question
from forecasts.numbers import finite_number
from forecasts.rules.validation import SERIES
from forecasts.services.text import check_storable

FIELDS = ("series", "at", "value", "source")
MAX_SOURCE = 500


def check_series(series: object, *, where: str = "series") -> str:
    """The series name if it is well formed, else InvalidInput."""
    if not isinstance(series, str) or not SERIES.match(series):
        raise InvalidInput(f"{series!r} is not a series name (lowercase letters, digits, "
                           "'-', '_', '.')", where=where)
    return series


def check_value(value: object, *, where: str = "value") -> float:
    """The value as a finite float, else InvalidInput."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InvalidInput(f"{value!r} is not a number", where=where) from None
    return finite_number(value, where=where)


def check_observation(entry: object, *, where: str) -> dict[str, Any]:
    """Column values of one observation {series, at, value, source?}."""
    if not isinstance(entry, Mapping):
        raise InvalidInput("must be a JSON object", where=where)
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", where=where)
    source = entry.get("source") or None
    if source is not None and (not isinstance(source, str) or len(source) > MAX_SOURCE):
        raise InvalidInput(f"must be text of at most {MAX_SOURCE} characters", where=f"{where}.source")
    if source is not None:
        check_storable(source, where=f"{where}.source")
    return {"series": check_series(entry.get("series"), where=f"{where}.series"),
            "at": timeutil.parse(entry.get("at"), where=f"{where}.at"),
            "value": check_value(entry.get("value"), where=f"{where}.value"),
            "source": source}


def check_past(at: datetime, now: datetime, *, where: str) -> datetime:
    """`at` if it is not after `now`: an observation records what has been seen."""
    if at > now:
        raise InvalidInput(f"{timeutil.iso(at)} is in the future (it is now {timeutil.iso(now)}); "
                           "an observation records a value already seen", where=where)
    return at


def _rule_series(rule: Mapping[str, Any]) -> list[str]:
    kind = rule.get("type")
    if kind in ("threshold", "bins", "value"):
        return [rule["series"]]
    if kind == "conditional":
        return _rule_series(rule["then"])
    return []


def known_series(session: Session) -> set[str]:
    """Series that have observations or that some question's rule reads."""
    known = set(session.scalars(select(Observation.series).distinct()))
    for rule_json in session.scalars(select(Question.rule_json)
                                     .where(Question.rule_json.like('%"series"%'))):
        known.update(_rule_series(json.loads(rule_json)))
    return known


def check_known(session: Session, wanted: Iterable[tuple[str, str]]) -> None:
    """InvalidInput for the first (series, where) naming an unknown series, so that a typo
    does not start a new series silently; the message suggests close existing names."""
    known = known_series(session)
    unknown = [(series, where) for series, where in wanted if series not in known]
    if not unknown:
        return
    series, where = unknown[0]
    close = difflib.get_close_matches(series, sorted(known), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    others = sorted({s for s, _ in unknown} - {series})
    also = f"; also new: {', '.join(others)}" if others else ""
    raise InvalidInput(f"no series named {series!r} has observations or a rule reading it{hint}; "
                       f"pass --new-series to start a new series{also}", where=where)


def record(session: Session, series: str, value: object, at: datetime, *,
           source: str | None = None, actor: str = "cli", new_series: bool = False,
           now: datetime | None = None, at_where: str = "observation.at") -> Observation:
    """Add one observation; not dated in the future, and of a known series unless
    `new_series` (`at_where` names the time in errors, e.g. the option it came from)."""
    values = check_observation({"series": series, "at": at, "value": value, "source": source},
                               where="observation")
    check_past(values["at"], now or timeutil.now(), where=at_where)
    if not new_series:
        check_known(session, [(values["series"], "observation.series")])
    observation = Observation(**values, recorded_by=actor)
    session.add(observation)
    session.flush()
    return observation


def series_observations(session: Session, series: str) -> list[Observation]:
    """A series' observations in time order."""
    return list(session.scalars(select(Observation).where(Observation.series == series)
                                .order_by(Observation.at, Observation.id)))


CSV_COLUMNS = ("series", "at", "value", "source")


def import_csv(session: Session, text: str, *, actor: str = "cli", new_series: bool = False,
               now: datetime | None = None) -> tuple[int, int]:
    """Add observations from CSV (series,at,value[,source]): every row or none.

    No row may be dated in the future, nor (unless `new_series`) name an unknown series.
    Rows identical (series, time, value) to one already recorded are skipped, so importing
    the same file twice adds nothing. Returns (added, skipped).
    """
    now = now or timeutil.now()
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in CSV_COLUMNS[:3] if c not in header]
    if missing:
        raise InvalidInput(f"missing column(s): {', '.join(missing)} "
                           f"(expected {','.join(CSV_COLUMNS)})", where="header")
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise InvalidInput(f"unknown column(s): {', '.join(unknown)} "
                           f"(expected {','.join(CSV_COLUMNS)})", where="header")
    numbered: list[tuple[int, dict[str, Any]]] = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise InvalidInput("has more fields than the header", where=f"line {line}")
        entry = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        values = check_observation(entry, where=f"line {line}")
        check_past(values["at"], now, where=f"line {line}.at")
        numbered.append((line, values))
    if not numbered:
        raise InvalidInput("no observation rows", where="file")
    if not new_series:
        check_known(session, [(v["series"], f"line {line}.series") for line, v in numbered])
    rows = [values for _, values in numbered]
    known = _recorded(session, {r["series"] for r in rows})
    fresh = []
    for values in rows:
        key = (values["series"], values["at"], values["value"])
        if key not in known:
            known.add(key)
            fresh.append({**values, "recorded_by": actor})
    if fresh:
        session.execute(insert(Observation), fresh)
    return len(fresh), len(rows) - len(fresh)


def _recorded(session: Session, series: set[str]) -> set[tuple[str, datetime, float]]:
    rows = session.execute(select(Observation.series, Observation.at, Observation.value)
                           .where(Observation.series.in_(sorted(series))))
    return {(s, at, value) for s, at, value in rows}
