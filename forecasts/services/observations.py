"""Observations: recorded values of named series, the evidence for threshold and bins rules."""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Observation
from forecasts.rules.validation import SERIES

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
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInput(f"{value!r} is not a finite number", where=where)
    return float(value)


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
