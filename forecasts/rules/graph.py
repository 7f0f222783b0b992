"""The dependency graph of rules: which questions a rule reads, in what order to decide them."""
from __future__ import annotations

from typing import Mapping


def dependency_order(graph: Mapping[str, list[str]]) -> list[str]:
    """Every slug of `graph` (slug -> slugs it reads) after the slugs it reads.

    Validation rejects cycles; should one slip in, it is cut at an arbitrary but fixed
    point rather than looping.
    """
    order: list[str] = []
    done: set[str] = set()
    visiting: set[str] = set()
    for start in sorted(graph):
        stack = [(start, iter(sorted(graph.get(start, ()))))]
        if start in done:
            continue
        visiting.add(start)
        while stack:
            slug, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                visiting.discard(slug)
                if slug not in done:
                    done.add(slug)
                    order.append(slug)
            elif child not in done and child not in visiting and child in graph:
                visiting.add(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return order


def dependents(graph: Mapping[str, list[str]], slug: str) -> list[str]:
    """Slugs whose rules read `slug`, directly or through others, in dependency order."""
    readers: dict[str, set[str]] = {}
    for reader, read in graph.items():
        for other in read:
            readers.setdefault(other, set()).add(reader)
    found: set[str] = set()
    frontier = [slug]
    while frontier:
        for reader in readers.get(frontier.pop(), ()):
            if reader not in found and reader != slug:
                found.add(reader)
                frontier.append(reader)
    return [s for s in dependency_order(graph) if s in found]
