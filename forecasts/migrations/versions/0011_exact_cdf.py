"""exact CDFs: a stored CDF is 804 bytes (float32, on the 2**-24 grid) or 1608 (float64)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

`forecasts.cdf` now stores a CDF exactly as given (SPEC §8): values that are multiples
of 2**-24 as 201 float32, any other valid CDF as 201 float64. The CHECK on
`forecasts.cdf` widens from `length(cdf) = 804` to `length(cdf) IN (804, 1608)`. Every
existing row is 804 bytes and stays as it is.

SQLite cannot alter a CHECK constraint, and a table rebuild would drop 0004's search
triggers and cascade to the forecasts' dependants; as in 0009 and 0010 the CREATE text of
`forecasts` is edited in place in `sqlite_master`, by 0010's helper (which checks that it
replaces exactly the text it expects). Widening a CHECK needs no change to stored rows.

Downgrade converts: each 1608-byte CDF is snapped to the 2**-24 grid (`forecasts.cdf.snap`,
still valid, each value moved by at most about 2e-6) and stored in 804 bytes, which is
what 0010's `encode` stored for the same submitted values; then the CHECK narrows back.
The exact values are lost, so an upgrade after a downgrade keeps the snapped ones.
"""
from importlib import import_module

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD_SIZE = "cdf IS NULL OR length(cdf) = 804"
NEW_SIZE = "cdf IS NULL OR length(cdf) IN (804, 1608)"
_BATCH = 10_000  # 1608-byte rows converted per statement on downgrade

_sqlite_edit_tables = import_module(
    "forecasts.migrations.versions.0010_numeric_scores")._sqlite_edit_tables


def upgrade() -> None:
    _set_size(OLD_SIZE, NEW_SIZE)


def downgrade() -> None:
    _snap_exact_rows()
    _set_size(NEW_SIZE, OLD_SIZE)


def _set_size(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_edit_tables({"forecasts": (f"CHECK ({old})", f"CHECK ({new})")})
    else:
        op.drop_constraint(op.f('ck_forecasts_cdf_size'), 'forecasts', type_='check')
        op.create_check_constraint(op.f('ck_forecasts_cdf_size'), 'forecasts', new)


def _snap_exact_rows() -> None:
    """Rewrite every 1608-byte CDF as the 804 bytes of its snapped values (docstring), in
    batches of rows by id."""
    import numpy as np

    from forecasts import cdf

    bind = op.get_bind()
    select = sa.text("SELECT id, cdf FROM forecasts WHERE length(cdf) = 1608 AND id > :last "
                     "ORDER BY id LIMIT :n")
    update = (sa.text("UPDATE forecasts SET cdf = :cdf WHERE id = :id")
              .bindparams(sa.bindparam("cdf", type_=sa.LargeBinary)))
    last = -1
    while True:
        rows = bind.execute(select, {"last": last, "n": _BATCH}).all()
        if not rows:
            return
        values = cdf.decode_many([bytes(r[1]) for r in rows])
        snapped = [cdf.encode(cdf.snap(row)) for row in values]  # on the grid: 804 bytes
        bind.execute(update, [{"id": r[0], "cdf": c} for r, c in zip(rows, snapped)])
        last = rows[-1][0]
