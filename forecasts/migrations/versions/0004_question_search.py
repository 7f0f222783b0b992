"""full-text search of questions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

SQLite: an FTS5 index `question_search` (Porter stemmer over unicode61) with the
questions table as its external content, kept in step by triggers and back-filled
here. PostgreSQL: a stored generated `tsvector` column `questions.search_vector`
(English stemming; title weight A, description B, slug words C) with a GIN index.
Neither is declared in the ORM models: the database maintains both by itself, and
tests/test_migrations.py leaves exactly these objects out of its comparison.
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Columns of the FTS5 index, in the order forecasts/services/search.py weighs them.
_SQLITE = (
    "CREATE VIRTUAL TABLE question_search USING fts5(title, description, slug, "
    "content='questions', content_rowid='id', tokenize='porter unicode61')",
    # External content: the index stores only tokens, so each change replays the old
    # values as a 'delete' before the new ones go in.
    "CREATE TRIGGER question_search_insert AFTER INSERT ON questions BEGIN "
    "INSERT INTO question_search (rowid, title, description, slug) "
    "VALUES (new.id, new.title, new.description, new.slug); END",
    "CREATE TRIGGER question_search_delete AFTER DELETE ON questions BEGIN "
    "INSERT INTO question_search (question_search, rowid, title, description, slug) "
    "VALUES ('delete', old.id, old.title, old.description, old.slug); END",
    "CREATE TRIGGER question_search_update AFTER UPDATE OF title, description, slug "
    "ON questions BEGIN "
    "INSERT INTO question_search (question_search, rowid, title, description, slug) "
    "VALUES ('delete', old.id, old.title, old.description, old.slug); "
    "INSERT INTO question_search (rowid, title, description, slug) "
    "VALUES (new.id, new.title, new.description, new.slug); END",
    "INSERT INTO question_search (question_search) VALUES ('rebuild')",
)
# to_tsvector(regconfig, text) is immutable, as a generated column requires.
_VECTOR = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(description, '')), 'B') || "
    "setweight(to_tsvector('english', translate(slug, '-', ' ')), 'C')"
)
_POSTGRESQL = (
    f"ALTER TABLE questions ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({_VECTOR}) STORED",
    "CREATE INDEX ix_questions_search_vector ON questions USING gin (search_vector)",
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE if sqlite else _POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER question_search_{trigger}")
        op.execute("DROP TABLE question_search")
    else:
        op.execute("DROP INDEX ix_questions_search_vector")
        op.execute("ALTER TABLE questions DROP COLUMN search_vector")
