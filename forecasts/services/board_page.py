"""One page of a leaderboard's rows for the web page (issue #10: no page over 300 KB).

The board itself is read whole from its snapshot or the cache (`leaderboard.leaderboard`)
and only sliced here, so every page of one score version shows the same ranking; the CSV,
JSON and API outputs stay complete.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from forecasts.errors import InvalidInput
from forecasts.services.leaderboard import LOWER_IS_BETTER

PER_PAGE = 100
Row = dict[str, Any]


@dataclass(frozen=True)
class BoardPage:
    """The rows to show (the crowd's placed among them), where they sit in the board, and
    the viewer's own row when it is ranked but not on this page."""

    rows: list[Row]
    page: int
    pages: int
    ranked: int          # forecasters on the whole board
    first: int           # 1-based position of this page's first ranked row (0 if none)
    last: int            # ... and of its last
    mine: Row | None     # the viewer's row, shown apart, when it is on another page
    mine_page: int | None  # ... and that page
    scale: tuple[float, float]  # the interval bars' range over the whole board
    viewer_here: bool    # whether the viewer's row is among `rows` (highlighted there)
    digest: str          # of `rows` and `scale`: what the rows' HTML depends on, bar the viewer


def crowd_position(ranked: list[Row], crowd: Row | None, metric: str) -> int:
    """How many ranked rows score better than the crowd (where its row goes)."""
    if crowd is None or crowd[metric] is None:
        return len(ranked)
    value = crowd[metric]
    if metric in LOWER_IS_BETTER:
        return sum(1 for r in ranked if r[metric] < value)
    return sum(1 for r in ranked if r[metric] > value)


def scale(rows: list[Row]) -> tuple[float, float]:
    """The range the interval bars share, so that rows compare at a glance (and across
    pages: it is taken over the whole board)."""
    ends = [v for r in rows if r["interval"] for v in r["interval"]]
    if not ends:
        return (0.0, 1.0)
    low, high = min(ends), max(ends)
    return (low, high if high > low else low + 1.0)


def page_of(rows: list[Row], metric: str, *, page: int = 1, per_page: int = PER_PAGE,
            username: str | None = None) -> BoardPage:
    """Page `page` (from 1) of `per_page` ranked rows of a served board, in board order.
    The crowd's row (rank None) appears on the page where its score places it; a page
    past the last raises InvalidInput naming `page`."""
    ranked = [r for r in rows if r["rank"] is not None]
    crowd = next((r for r in rows if r["rank"] is None), None)
    pages = max(1, -(-len(ranked) // per_page))
    if page < 1 or page > pages:
        raise InvalidInput(f"is past the last page ({pages})", where="page")
    start, end = (page - 1) * per_page, min(page * per_page, len(ranked))
    shown = ranked[start:end]
    if crowd is not None:
        at = crowd_position(ranked, crowd, metric)
        # At a page boundary the crowd opens the next page; after the last row, the last page.
        if start <= at < end or (page == pages and at >= end):
            shown.insert(at - start, crowd)
    mine_at = next((i for i, r in enumerate(ranked) if username and r["user"] == username), None)
    here = mine_at is not None and start <= mine_at < end
    if here:
        mine_at = None  # on this page already, in its place
    bars = scale(rows)
    digest = hashlib.blake2b(json.dumps([shown, bars]).encode(), digest_size=16).hexdigest()
    return BoardPage(rows=shown, page=page, pages=pages, ranked=len(ranked),
                     first=start + 1 if end > start else 0, last=end,
                     mine=None if mine_at is None else ranked[mine_at],
                     mine_page=None if mine_at is None else mine_at // per_page + 1,
                     scale=bars, viewer_here=here, digest=digest)
