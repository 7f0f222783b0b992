"""Full-text search of questions: SQLite FTS5 or PostgreSQL tsvector, by the database in use.

Migration 0004 builds the index (both kept in step by the database itself). The
user's text becomes words only, so no character of it can reach FTS5's or
tsquery's syntax: every word must match (AND), each stemmed (Porter on SQLite,
the English snowball stemmer on PostgreSQL), and the hits come ranked.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import (Float, FromClause, Integer, false, func, literal, literal_column, select,
                        text)
from sqlalchemy.orm import Session

from forecasts.models import Question

MAX_WORDS = 16
MAX_WORD = 64
# Letters and digits only: unicode61 (and PostgreSQL's parser) split on everything else,
# including the underscore that \w would keep.
_WORD = re.compile(r"[^\W_]+")
# PostgreSQL's English stop words (Snowball's list, tsearch_data/english.stop): they are
# never searched for on SQLite either, so that both databases find the same questions.
_STOPWORDS = frozenset("""
i me my myself we our ours ourselves you your yours yourself yourselves he him his
himself she her hers herself it its itself they them their theirs themselves what
which who whom this that these those am is are was were be been being have has had
having do does did doing a an the and but if or because as until while of at by for
with about against between into through during before after above below to from up
down in out on off over under again further then once here there when where why how
all any both each few more most other some such no nor not only own same so than too
very s t can will just don should now
""".split())
# bm25 weights of the FTS5 columns (title, description, slug); PostgreSQL weighs the
# same columns A, B, C in the generated column.
_BM25 = "bm25(question_search, 10.0, 3.0, 1.0)"


def search_words(query: str | None) -> list[str]:
    """The words of the user's text, lowercased, without stop words or duplicates, at
    most MAX_WORDS."""
    if not query:
        return []
    words = _WORD.findall(unicodedata.normalize("NFKC", query).lower())
    kept = (w[:MAX_WORD] for w in words if w not in _STOPWORDS)
    return list(dict.fromkeys(kept))[:MAX_WORDS]


def fts5_query(words: list[str]) -> str:
    """An FTS5 query matching rows that hold every word: each one a quoted string, so
    NEAR, AND, OR, NOT, '*', '-', ':' and '^' mean nothing; joined by implicit AND."""
    return " ".join(f'"{w}"' for w in words)


def search_hits(session: Session, query: str | None) -> FromClause | None:
    """Questions matching every word of `query` as (question_id, rank), a smaller rank
    being more relevant (bm25 on SQLite, minus ts_rank on PostgreSQL); None for blank
    text, which is no search at all (text without a word matches nothing)."""
    if not query or not query.strip():
        return None
    words = search_words(query)
    if not words:  # only punctuation or stop words: nothing can match it
        return (select(Question.id.label("question_id"), literal(0.0).label("rank"))
                .where(false()).subquery("search_hits"))
    if session.get_bind().dialect.name == "sqlite":
        # MATERIALIZED: run the MATCH once. As a plain subquery SQLite may flatten it into
        # the join and run the full-text query again for every question (10,000 questions
        # matching took 1.5 s to count).
        return (text(f"SELECT rowid AS question_id, {_BM25} AS rank FROM question_search "
                     "WHERE question_search MATCH :fts")
                .bindparams(fts=fts5_query(words))
                .columns(question_id=Integer, rank=Float).cte("search_hits")
                .prefix_with("MATERIALIZED"))
    vector = literal_column("questions.search_vector")
    # plainto_tsquery ANDs the words and ignores any punctuation left in them.
    tsquery = func.plainto_tsquery(literal_column("'english'"), " ".join(words))
    return (select(Question.id.label("question_id"),
                   (-func.ts_rank(vector, tsquery)).label("rank"))
            .where(vector.op("@@")(tsquery)).subquery("search_hits"))
