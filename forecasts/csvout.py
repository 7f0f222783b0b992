"""The one CSV writer: every CSV the project writes (CLI and web) goes through `write`.

Text cells a spreadsheet would run as a formula (CSV injection, OWASP) are neutralised
with a leading apostrophe; numbers are left as numbers, so a score of -0.5 stays -0.5.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Mapping, Sequence

# A spreadsheet starts a formula at these (tab and carriage return are skipped first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """The value as it is safe to write: formula-like text prefixed with `'`, None empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV text with a header of `columns` and one line per row (other keys are ignored)."""
    lines = [_line([cell(c) for c in columns])]
    for row in rows:
        # Lists (a forecast's probabilities) are written as their text, then checked.
        lines.append(_line([cell(str(v) if isinstance(v, (list, tuple, dict)) else v)
                            for v in (row.get(c) for c in columns)]))
    return "".join(line + "\n" for line in lines)


def _line(cells: list[Any]) -> str:
    # The csv module quotes a field only for the characters of its line terminator, so
    # it is given \r\n (a lone \r in a cell then gets quoted too) and lines end in \n.
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()[:-2]
