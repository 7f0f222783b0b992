"""Numbers from input (JSON, CSV, forms): finite floats or a named error."""
from __future__ import annotations

import math

from forecasts.errors import InvalidInput


def finite_number(value: object, *, where: str) -> float:
    """`value` as a float if it is an int or float (not a bool) and finite, else InvalidInput.
    An integer too large for a float (JSON allows 1 followed by 400 zeros) is not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{value!r} is not a finite number", where=where)
    try:
        number = float(value)
    except OverflowError:
        raise InvalidInput("is not a finite number (too large)", where=where) from None
    if not math.isfinite(number):
        raise InvalidInput(f"{value!r} is not a finite number", where=where)
    return number
