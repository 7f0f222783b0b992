"""Observations: recorded values of named series, the evidence for threshold and bins rules."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Observation
from forecasts.numbers import finite_number
from forecasts.rules.validation import SERIES
from forecasts.services.text import check_storable

FIELDS = ("series", "at", "value", "source")
MAX_SOURCE = 500


def check_series(series: object, *, where: str = "series") -> str:
    if not isinstance(series, str) or not SERIES.match(series):
        raise InvalidInput(f"{series!r} is not a series name (lowercase letters, digits, "
                           "'-', '_', '.')", where=where)
    return series


def check_value(value: object, *, where: str = "value") -> float:
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


def record(session: Session, series: str, value: object, at: datetime, *,
           source: str | None = None, actor: str = "cli") -> Observation:
    """Add one observation."""
    values = check_observation({"series": series, "at": at, "value": value, "source": source},
                               where="observation")
    observation = Observation(**values, recorded_by=actor)
    session.add(observation)
    session.flush()
    return observation


def series_observations(session: Session, series: str) -> list[Observation]:
    """A series' observations in time order."""
    return list(session.scalars(select(Observation).where(Observation.series == series)
                                .order_by(Observation.at, Observation.id)))


CSV_COLUMNS = ("series", "at", "value", "source")


def import_csv(session: Session, text: str, *, actor: str = "cli") -> tuple[int, int]:
    """Add observations from CSV (series,at,value[,source]): every row or none.

    Rows identical (series, time, value) to one already recorded are skipped, so importing
    the same file twice adds nothing. Returns (added, skipped).
    """
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
    rows = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise InvalidInput("has more fields than the header", where=f"line {line}")
        entry = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items()}
        rows.append(check_observation(entry, where=f"line {line}"))
    if not rows:
        raise InvalidInput("no observation rows", where="file")
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
