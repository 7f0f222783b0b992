"""Page numbers of the paginated pages (`?page=2`): one reading for every page."""
from __future__ import annotations

from forecasts.errors import InvalidInput

MAX_PAGE = 1_000_000


def page_number(text: str | None, *, where: str = "page") -> int:
    """The page a query argument asks for: 1 when absent or empty, else a whole number
    from 1 to MAX_PAGE in ASCII digits; InvalidInput naming `where` (without echoing the
    value) otherwise."""
    text = (text or "").strip() or "1"
    if not (text.isascii() and text.isdigit() and len(text) <= 7 and 1 <= int(text) <= MAX_PAGE):
        raise InvalidInput("is not a page number (1, 2, …)", where=where)
    return int(text)
