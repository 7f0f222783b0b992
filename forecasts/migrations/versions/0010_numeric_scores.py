"""numeric scores: a CRPS on question and crowd scores, Brier absent for numeric questions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

`question_scores.crps` and `crowd_scores.crps` (nullable) hold the CRPS of numeric and
date questions (SPEC section 11); their `brier` becomes nullable, since those questions
have none. Every packed block of `question_score_blocks` gains a `crps` field after
`coverage` (`queries.SCORE_RECORD`): existing blocks are re-packed with NaN there.

SQLite cannot drop a NOT NULL with ALTER TABLE. Removing a NOT NULL changes neither the
stored rows nor their meaning, so, as in 0009, the two CREATE statements are edited in
place in `sqlite_master` (https://www.sqlite.org/lang_altertable.html, "otheralter"),
each edit checking that it replaces exactly the text it expects.

Downgrade deletes the scores of numeric and date questions (rows without a Brier, and
those questions' blocks): 0009 has nowhere to keep a CRPS, and they are derived data that
`forecasts rescore` rebuilds after an upgrade. The other blocks lose their `crps` field.
"""
from alembic import op
import numpy as np
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLES = ('question_scores', 'crowd_scores')
OLD_RECORD = np.dtype([("user_id", "<i8"), ("brier", "<f8"), ("log", "<f8"), ("peer", "<f8"),
                       ("coverage", "<f8")])
NEW_RECORD = np.dtype(OLD_RECORD.descr + [("crps", "<f8")])


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ADD COLUMN crps FLOAT")
        _sqlite_edit_tables({t: ("\tbrier FLOAT NOT NULL,", "\tbrier FLOAT,") for t in TABLES})
    else:
        for table in TABLES:
            op.add_column(table, sa.Column('crps', sa.Float(precision=53), nullable=True))
            op.alter_column(table, 'brier', existing_type=sa.Float(precision=53),
                            nullable=True)
    _repack(OLD_RECORD, NEW_RECORD)


def downgrade() -> None:
    bind = op.get_bind()
    numeric = "SELECT id FROM questions WHERE kind IN ('numeric', 'date')"
    op.execute(f"DELETE FROM question_score_blocks WHERE question_id IN ({numeric})")
    for table in TABLES:
        op.execute(f"DELETE FROM {table} WHERE brier IS NULL")
    _repack(NEW_RECORD, OLD_RECORD)
    if bind.dialect.name == "sqlite":
        _sqlite_edit_tables({t: ("\tbrier FLOAT,", "\tbrier FLOAT NOT NULL,") for t in TABLES})
    else:
        for table in TABLES:
            op.alter_column(table, 'brier', existing_type=sa.Float(precision=53),
                            nullable=False)
    for table in TABLES:
        op.drop_column(table, 'crps')


def _repack(old: np.dtype, new: np.dtype) -> None:
    """Rewrite every block from the `old` record layout to `new` (a field missing from
    `old` becomes NaN; one missing from `new` is dropped)."""
    bind = op.get_bind()
    blocks = bind.execute(sa.text("SELECT question_id, data FROM question_score_blocks")).all()
    rows = []
    for question_id, data in blocks:  # a loop over questions, each block one value
        records = np.frombuffer(bytes(data), old)
        out = np.empty(records.size, new)
        for name in new.names:
            out[name] = records[name] if name in old.names else np.nan
        rows.append({"q": question_id, "data": out.tobytes()})
    if rows:
        bind.execute(sa.text("UPDATE question_score_blocks SET data = :data "
                             "WHERE question_id = :q")
                     .bindparams(sa.bindparam("data", type_=sa.LargeBinary)), rows)


def _sqlite_edit_tables(edits: dict[str, tuple[str, str]]) -> None:
    """Replace text in tables' CREATE statements in sqlite_master (module docstring)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table, (old, new) in edits.items():
            sql = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                (table,)).scalar()
            if sql is None or sql.count(old) != 1:
                raise RuntimeError(f"table {table}: expected one {old.strip()!r}")
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (sql.replace(old, new), table))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
