"""numeric and date questions: a range on questions, a CDF on forecasts, a value on
resolutions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

Existing questions keep no range (binary and multiple choice have none), existing
forecasts no CDF, existing resolutions no value.

SQLite cannot alter a CHECK constraint, and a batch rebuild of `questions` or
`forecasts` would drop the search triggers of 0004 and, with foreign keys on, cascade the
drop of the old table to the forecasts (see 0003 and 0007). So the new columns come by
plain ADD COLUMN (their own CHECKs attached), and the two constraints that change, the
question kinds and the forecast's one form, are rewritten in place in `sqlite_master`:
the procedure SQLite documents for changes that need no change to stored rows
(https://www.sqlite.org/lang_altertable.html, "otheralter"): in the migration's
transaction, writable_schema on, the table's CREATE text edited, schema_version bumped.
Every existing row satisfies the new constraints (the kinds only widen; every existing
forecast has no CDF), and each edit checks that it replaces exactly the text it expects.

Downgrade refuses while any numeric or date question exists (their forecasts could not
be kept); delete them first.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('binary', 'multiple_choice')"
NEW_KINDS = "kind IN ('binary', 'multiple_choice', 'numeric', 'date')"
RANGE = ("(kind IN ('numeric', 'date') AND range_min IS NOT NULL "
         "AND range_max IS NOT NULL AND range_min < range_max) OR "
         "(kind IN ('binary', 'multiple_choice') AND range_min IS NULL "
         "AND range_max IS NULL)")
OLD_ONE_FORM = "(probability IS NULL) <> (probabilities_json IS NULL)"
NEW_ONE_FORM = ("(cdf IS NULL AND (probability IS NULL) <> (probabilities_json IS NULL))"
                " OR (cdf IS NOT NULL AND probability IS NULL "
                "AND probabilities_json IS NULL)")
CDF_SIZE = "cdf IS NULL OR length(cdf) = 804"
VALUE = "value IS NULL OR outcome <> 'annulled'"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in (
                "ALTER TABLE questions ADD COLUMN range_min FLOAT",
                "ALTER TABLE questions ADD COLUMN range_max FLOAT "
                f"CONSTRAINT ck_questions_range CHECK ({RANGE})",
                "ALTER TABLE questions ADD COLUMN open_lower BOOLEAN DEFAULT 0 NOT NULL",
                "ALTER TABLE questions ADD COLUMN open_upper BOOLEAN DEFAULT 0 NOT NULL",
                "ALTER TABLE questions ADD COLUMN unit VARCHAR(40)",
                "ALTER TABLE forecasts ADD COLUMN cdf BLOB "
                f"CONSTRAINT ck_forecasts_cdf_size CHECK ({CDF_SIZE})",
                "ALTER TABLE resolutions ADD COLUMN value FLOAT "
                f"CONSTRAINT ck_resolutions_value CHECK ({VALUE})"):
            op.execute(statement)
        _sqlite_edit_table({"questions": (OLD_KINDS, NEW_KINDS),
                            "forecasts": (OLD_ONE_FORM, NEW_ONE_FORM)})
        return
    op.add_column('questions', sa.Column('range_min', sa.Float(precision=53), nullable=True))
    op.add_column('questions', sa.Column('range_max', sa.Float(precision=53), nullable=True))
    for name in ('open_lower', 'open_upper'):
        op.add_column('questions', sa.Column(name, sa.Boolean(), server_default=sa.false(),
                                             nullable=False))
    op.add_column('questions', sa.Column('unit', sa.String(length=40), nullable=True))
    op.add_column('forecasts', sa.Column('cdf', sa.LargeBinary(), nullable=True))
    op.add_column('resolutions', sa.Column('value', sa.Float(precision=53), nullable=True))
    op.drop_constraint(op.f('ck_questions_kind'), 'questions', type_='check')
    op.create_check_constraint(op.f('ck_questions_kind'), 'questions', NEW_KINDS)
    op.create_check_constraint(op.f('ck_questions_range'), 'questions', RANGE)
    op.drop_constraint(op.f('ck_forecasts_one_form'), 'forecasts', type_='check')
    op.create_check_constraint(op.f('ck_forecasts_one_form'), 'forecasts', NEW_ONE_FORM)
    op.create_check_constraint(op.f('ck_forecasts_cdf_size'), 'forecasts', CDF_SIZE)
    op.create_check_constraint(op.f('ck_resolutions_value'), 'resolutions', VALUE)


def downgrade() -> None:
    bind = op.get_bind()
    count = bind.execute(sa.text(
        "SELECT COUNT(*) FROM questions WHERE kind IN ('numeric', 'date')")).scalar()
    if count:
        raise RuntimeError(f"cannot downgrade below 0009: {count} numeric or date "
                           "question(s) exist; delete them first")
    if bind.dialect.name == "sqlite":
        _sqlite_edit_table({"questions": (NEW_KINDS, OLD_KINDS),
                            "forecasts": (NEW_ONE_FORM, OLD_ONE_FORM)})
    else:
        op.drop_constraint(op.f('ck_resolutions_value'), 'resolutions', type_='check')
        op.drop_constraint(op.f('ck_forecasts_cdf_size'), 'forecasts', type_='check')
        op.drop_constraint(op.f('ck_forecasts_one_form'), 'forecasts', type_='check')
        op.create_check_constraint(op.f('ck_forecasts_one_form'), 'forecasts', OLD_ONE_FORM)
        op.drop_constraint(op.f('ck_questions_range'), 'questions', type_='check')
        op.drop_constraint(op.f('ck_questions_kind'), 'questions', type_='check')
        op.create_check_constraint(op.f('ck_questions_kind'), 'questions', OLD_KINDS)
    # On SQLite each column's own CHECK goes with it; range_max's names range_min, so
    # range_max goes first.
    op.drop_column('resolutions', 'value')
    op.drop_column('forecasts', 'cdf')
    for name in ('unit', 'open_upper', 'open_lower', 'range_max', 'range_min'):
        op.drop_column('questions', name)


def _sqlite_edit_table(edits: dict[str, tuple[str, str]]) -> None:
    """Replace text in tables' CREATE statements in sqlite_master (module docstring)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        for table, (old, new) in edits.items():
            sql = bind.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                (table,)).scalar()
            if sql is None or sql.count(f"CHECK ({old})") != 1:
                raise RuntimeError(f"table {table}: expected one CHECK ({old})")
            bind.exec_driver_sql(
                "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
                (sql.replace(f"CHECK ({old})", f"CHECK ({new})"), table))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")
