"""Questions from CSV: one question a row, all rows or none."""
from __future__ import annotations

import csv
import io
import json

from sqlalchemy.orm import Session

from forecasts.errors import InvalidInput
from forecasts.models import Question
from forecasts.services.questions import add_question, check_rules, find_question, parse_question

COLUMNS = ("slug", "title", "description", "kind", "options", "ordered", "tags", "open_at",
           "close_at", "rule")
REQUIRED = {"slug", "title", "open_at", "close_at"}
LIST_SEPARATOR = "|"


def _row_to_definition(row: dict[str, str], where: str) -> dict:
    data: dict = {k: v for k, v in row.items() if k in ("slug", "title", "description",
                                                         "open_at", "close_at")}
    data["kind"] = row.get("kind") or "binary"
    if row.get("options"):
        data["options"] = [o.strip() for o in row["options"].split(LIST_SEPARATOR)]
    ordered = (row.get("ordered") or "").strip().lower()
    if ordered not in ("", "true", "false", "yes", "no", "1", "0"):
        raise InvalidInput(f"{row['ordered']!r} is not true or false", where=f"{where}.ordered")
    data["ordered"] = ordered in ("true", "yes", "1")
    data["tags"] = [t.strip() for t in (row.get("tags") or "").split(LIST_SEPARATOR) if t.strip()]
    if row.get("rule"):
        try:
            data["rule"] = json.loads(row["rule"])
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"not valid JSON ({exc.msg})", where=f"{where}.rule") from None
    return data


def import_csv(session: Session, text: str, *, hide_crowd: bool | None = None) -> list[Question]:
    """Parse and validate every row, then add the questions. Lists use '|' as separator;
    `hide_crowd` sets hide_crowd_until_forecast of them all (None: the default)."""
    reader = csv.DictReader(io.StringIO(text))
    header = set(reader.fieldnames or ())
    missing = sorted(REQUIRED - header)
    if missing:
        raise InvalidInput(f"missing column(s): {', '.join(missing)}", where="header")
    unknown = sorted(header - set(COLUMNS))
    if unknown:
        raise InvalidInput(f"unknown column(s): {', '.join(unknown)} "
                           f"(expected {', '.join(COLUMNS)})", where="header")
    specs, rows = [], {}
    for line, row in enumerate(reader, start=2):
        where = f"line {line}"
        if None in row:
            raise InvalidInput("has more fields than the header", where=where)
        data = _row_to_definition(row, where)
        if hide_crowd is not None:
            data["hide_crowd_until_forecast"] = hide_crowd
        spec = parse_question(data, where=where)
        if spec.slug in rows:
            raise InvalidInput(f"duplicate slug {spec.slug!r} (also line {rows[spec.slug]})",
                               where=f"{where}.slug")
        if find_question(session, spec.slug) is not None:
            raise InvalidInput(f"a question with slug {spec.slug!r} already exists",
                               where=f"{where}.slug")
        rows[spec.slug] = line
        specs.append(spec)
    if not specs:
        raise InvalidInput("no question rows", where="file")
    check_rules(specs, session, where=lambda s: f"line {rows[s.slug]} ({s.slug})")
    return [add_question(session, spec) for spec in specs]
