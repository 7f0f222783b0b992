"""A question's discussion as one viewer sees it: pages of the thread, the feed's newest
comments, the API's flat list, and where a permalink lands.

Which comments are shown is decided once, here, from a light skeleton of the question's
comments (one query): the hidden crowd (forecasts.services.visibility) withholds other
users' rationale comments and everything under them; a deleted comment is shown (as
"deleted") only while something under it is shown. The rows on a page then come in one
query with their authors, and their forecasts in one more, whatever the page holds.

The skeleton of a question whose crowd the viewer sees is the same for every viewer: it
is kept in this process, keyed on a fingerprint of the question's comments (how many,
the newest id, and which are deleted or hidden) that one aggregate over the question's
index entries reads, so a page of a question with thousands of comments does not
rebuild its tree on every request; any comment added, deleted, hidden or shown again
changes the fingerprint. A skeleton that withholds rationales is built per viewer.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from forecasts.bulk import chunks
from forecasts.errors import InvalidInput, NotFound
from forecasts.models import Comment, Forecast, Question, Resolution, User
from forecasts.services import visibility

PAGE_SIZE = 50
FEED_SIZE = 50
MAX_DEPTH = 3  # replies deeper than this are shown at this indent
ORDERS = ("newest", "oldest")


class Node(NamedTuple):
    """A comment's skeleton: enough to decide whether and where it is shown."""

    id: int
    parent_id: int | None
    user_id: int
    forecast_id: int | None
    deleted: bool
    hidden: bool
    created_at: datetime


@dataclass(frozen=True)
class Entry:
    """One comment as shown: its indent, whether its body may be shown to this viewer,
    and the forecast it came with (None when it has none, or the number is withheld)."""

    comment: Comment
    depth: int
    show_body: bool
    forecast: Forecast | None


@dataclass
class Skeleton:
    """The comments a viewer is shown, as a tree: roots and children in time order."""

    nodes: dict[int, Node]
    roots: list[int]
    children: dict[int, list[int]] = field(default_factory=dict)
    crowd_shown: bool = True

    def flat(self, root: int) -> list[tuple[int, int]]:
        """(id, depth) of a root and everything under it, replies oldest first."""
        out, stack = [], [(root, 0)]
        while stack:
            node, depth = stack.pop()
            out.append((node, min(depth, MAX_DEPTH)))
            stack.extend((child, depth + 1) for child in reversed(self.children.get(node, [])))
        return out

    def newest(self) -> list[int]:
        """Every shown comment, newest first."""
        return sorted(self.nodes, key=lambda i: (self.nodes[i].created_at, i), reverse=True)

    def root_of(self, comment_id: int) -> int:
        node = self.nodes[comment_id]
        while node.parent_id is not None:
            node = self.nodes[node.parent_id]
        return node.id


@dataclass(frozen=True)
class ThreadPage:
    """One page of the thread: entries in display order, and where it is."""

    entries: list[Entry]
    page: int
    pages: int
    order: str
    total: int
    crowd_shown: bool


def _key(node: Node) -> tuple[datetime, int]:
    return node.created_at, node.id


# Questions whose nodes and shared skeleton this process keeps (the busiest ones), per
# database engine (ids mean nothing across databases).
CACHED_QUESTIONS = 64
_Entry = tuple[Any, dict[int, Node], "Skeleton | None"]
_caches: weakref.WeakKeyDictionary[Any, OrderedDict[int, _Entry]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _cache_of(session: Session) -> OrderedDict[int, _Entry]:
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    with _cache_lock:
        found = _caches.get(engine)
        if found is None:
            found = _caches[engine] = OrderedDict()
        return found


def _fingerprint(session: Session, question_id: int) -> tuple[Any, ...]:
    """What changes whenever the question's comments do, in one aggregate: the count and
    newest id (a comment added), and the ids and latest times of the deleted and hidden
    ones (a comment deleted, hidden or shown again)."""
    deleted, hidden = Comment.deleted_at.is_not(None), Comment.hidden_at.is_not(None)
    row = session.execute(
        select(func.count(), func.max(Comment.id), func.max(Comment.created_at),
               func.sum(case((deleted, Comment.id))), func.sum(case((hidden, Comment.id))),
               func.count(Comment.hidden_at), func.max(Comment.hidden_at))
        .where(Comment.question_id == question_id)).one()
    return tuple(row)


def _nodes(session: Session, question_id: int) -> _Entry:
    """The fingerprint, the question's nodes (from this process's cache when the
    fingerprint still matches) and the shared skeleton if built already."""
    mark = _fingerprint(session, question_id)
    cache = _cache_of(session)
    with _cache_lock:
        hit = cache.get(question_id)
        if hit is not None and hit[0] == mark:
            cache.move_to_end(question_id)
            return hit
    rows = session.execute(
        select(Comment.id, Comment.parent_id, Comment.user_id, Comment.forecast_id,
               Comment.deleted_at.is_not(None), Comment.hidden_at.is_not(None),
               Comment.created_at)
        .where(Comment.question_id == question_id)).all()
    found = (mark, {row[0]: Node(*row) for row in rows}, None)
    with _cache_lock:
        cache[question_id] = found
        cache.move_to_end(question_id)
        while len(cache) > CACHED_QUESTIONS:
            cache.popitem(last=False)
    return found


def skeleton(session: Session, question: Question, viewer: User | None, *,
             resolution: Resolution | None = None, has_forecast: bool | None = None,
             crowd_shown: bool | None = None) -> Skeleton:
    """The tree of the comments shown to `viewer` on `question`; its `nodes` and `roots`
    are the caller's own to change (the shared lists of `children` are not)."""
    if crowd_shown is None:
        crowd_shown = visibility.crowd_visible(session, question, viewer, resolution=resolution,
                                               has_forecast=has_forecast)
    mark, nodes, shared = _nodes(session, question.id)
    if not crowd_shown:
        return _build(nodes, viewer.id if viewer is not None else None, crowd_shown=False)
    if shared is None:
        shared = _build(nodes, None, crowd_shown=True)
        cache = _cache_of(session)
        with _cache_lock:
            if question.id in cache and cache[question.id][0] == mark:
                cache[question.id] = (mark, nodes, shared)
    return Skeleton(dict(shared.nodes), list(shared.roots), dict(shared.children), True)


def _build(nodes: dict[int, Node], viewer_id: int | None, *, crowd_shown: bool) -> Skeleton:
    """The tree of `nodes` shown to the viewer `viewer_id` (None: logged out)."""
    kids: dict[int, list[Node]] = {}
    roots: list[Node] = []
    for node in nodes.values():
        if node.parent_id is None or node.parent_id not in nodes:
            roots.append(node)
        else:
            kids.setdefault(node.parent_id, []).append(node)

    def withholds(node: Node) -> bool:
        return not crowd_shown and node.forecast_id is not None and node.user_id != viewer_id

    # Depth first, iteratively (threads may be deep): children are decided before parents.
    shown: dict[int, bool] = {}
    order: list[Node] = []
    stack = [n for n in roots if not withholds(n)]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(k for k in kids.get(node.id, []) if not withholds(k))
    children: dict[int, list[int]] = {}
    for node in reversed(order):
        visible = [k for k in sorted(kids.get(node.id, []), key=_key) if shown.get(k.id)]
        shown[node.id] = not node.deleted or bool(visible)
        if visible:
            children[node.id] = [k.id for k in visible]
    kept = {i: nodes[i] for i, ok in shown.items() if ok}
    top = [n.id for n in sorted((n for n in roots if n.id in kept), key=_key)]
    return Skeleton(kept, top, children, crowd_shown)


def check_order(raw: str | None) -> str:
    """`newest` (the default) or `oldest`."""
    value = (raw or "").strip() or "newest"
    if value not in ORDERS:
        raise InvalidInput(f"{value[:20]!r} is not an order (newest or oldest)", where="order")
    return value


def _rows(session: Session, ids: list[int]) -> dict[int, Comment]:
    found: dict[int, Comment] = {}
    for part in chunks(ids):
        found.update((c.id, c) for c in session.scalars(
            select(Comment).options(joinedload(Comment.user)).where(Comment.id.in_(part))))
    return found


def _forecasts(session: Session, ids: Iterable[int]) -> dict[int, Forecast]:
    wanted = sorted(set(ids))
    found: dict[int, Forecast] = {}
    for part in chunks(wanted):
        found.update((f.id, f) for f in session.scalars(
            select(Forecast).where(Forecast.id.in_(part))))
    return found


def entries(session: Session, tree: Skeleton, placed: list[tuple[int, int]],
            viewer: User | None) -> list[Entry]:
    """Entries for (id, depth) pairs: the rows, their authors and forecasts, in 2 queries
    (1 more when a forecast's number may be shown)."""
    rows = _rows(session, [i for i, _ in placed])
    viewer_id = viewer.id if viewer is not None else None
    admin = viewer is not None and viewer.is_admin

    def numbered(c: Comment) -> bool:
        return c.forecast_id is not None and (tree.crowd_shown or c.user_id == viewer_id)

    forecasts = _forecasts(session, (c.forecast_id for c in rows.values() if numbered(c)))
    out = []
    for comment_id, depth in placed:
        c = rows[comment_id]
        show = c.deleted_at is None and (c.hidden_at is None or admin)
        out.append(Entry(c, depth, show, forecasts.get(c.forecast_id) if numbered(c) else None))
    return out


def thread_page(session: Session, question: Question, viewer: User | None, *, page: int = 1,
                order: str = "newest", resolution: Resolution | None = None,
                has_forecast: bool | None = None, crowd_shown: bool | None = None) -> ThreadPage:
    """Page `page` (from 1; past the end: the last) of top-level comments in `order`, each
    followed by all its replies."""
    tree = skeleton(session, question, viewer, resolution=resolution, has_forecast=has_forecast,
                    crowd_shown=crowd_shown)
    tops = tree.roots if order == "oldest" else tree.roots[::-1]
    pages = max(1, -(-len(tops) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    placed = [p for root in tops[(page - 1) * PAGE_SIZE:page * PAGE_SIZE] for p in tree.flat(root)]
    return ThreadPage(entries(session, tree, placed, viewer), page, pages, order, len(tops),
                      tree.crowd_shown)


def locate(session: Session, question: Question, viewer: User | None, comment_id: int, *,
           order: str = "newest") -> int:
    """The page of the thread (in `order`) that shows this comment; NotFound when it is
    not shown to `viewer`."""
    tree = skeleton(session, question, viewer)
    if comment_id not in tree.nodes:
        raise NotFound(f"no comment {comment_id} on {question.slug!r}", where="comment")
    tops = tree.roots if order == "oldest" else tree.roots[::-1]
    return tops.index(tree.root_of(comment_id)) // PAGE_SIZE + 1


def feed_entries(session: Session, question: Question, *, limit: int = FEED_SIZE) -> list[Entry]:
    """The newest comments a logged-out visitor is shown, deleted and hidden ones left out."""
    tree = skeleton(session, question, None)
    ids = [i for i in tree.newest() if not (tree.nodes[i].deleted or tree.nodes[i].hidden)]
    return entries(session, tree, [(i, 0) for i in ids[:limit]], None)


def listing(session: Session, question: Question, viewer: User | None, *, limit: int,
            offset: int = 0, before: tuple[datetime, int] | None = None
            ) -> tuple[list[Entry], bool]:
    """The API's flat list, newest first: `limit` comments from `offset`, or after the
    (created_at, id) `before`; and whether more follow."""
    tree = skeleton(session, question, viewer)
    ids = tree.newest()
    if before is not None:
        ids = [i for i in ids if (tree.nodes[i].created_at, i) < before]
    else:
        ids = ids[offset:]
    chosen = ids[:limit]
    return entries(session, tree, [(i, 0) for i in chosen], viewer), len(ids) > limit
