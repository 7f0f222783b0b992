"""Migration 0011 (exact CDFs): a stored CDF may be 804 or 1608 bytes; existing rows and
the search index survive; the downgrade snaps 1608-byte CDFs into 804 bytes and narrows
the rule again, on either database."""
from __future__ import annotations

import numpy as np
from sqlalchemy import text

from forecasts import cdf, migrate
from tests.test_migration_0007 import empty_db  # noqa: F401  (a database of its own)
from tests.test_migration_0009 import (FORECAST, US, _downgrade, _numeric, _old_rows, _refused,
                                       _search)

INSERT = FORECAST.format(cols=", cdf", vals=", :cdf")
K = np.arange(201)
EXACT = K / 200  # off the 2**-24 grid


def open_lower(f0: float) -> np.ndarray:
    """Uniform from F_0 = f0 to F_200 = 1 (an open lower side), off the grid."""
    f = f0 + K * ((1 - f0) / 200)
    f[-1] = 1.0
    return f


EXACT_OPEN = open_lower(0.001)


def _cdfs(db) -> list[bytes]:
    with db.engine.connect() as conn:
        return [bytes(c) for c in conn.execute(text(
            "SELECT cdf FROM forecasts WHERE cdf IS NOT NULL ORDER BY id")).scalars()]


def _insert(db, qid, at, data) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(INSERT), {"q": qid, "at": at, "p": None, "pj": None, "cdf": data})


def test_upgrade_admits_exact_cdfs_and_downgrade_snaps_them(empty_db):  # noqa: F811
    db = empty_db
    migrate.upgrade(db, "0010")
    with db.engine.begin() as conn:
        _old_rows(conn)
        _numeric(conn, 3)  # open lower side
        _numeric(conn, 4, kind="date", lo=1.7e9, hi=1.8e9)
    snapped = cdf.encode(cdf.quantiles_to_cdf({0.1: 2.0, 0.9: 8.0}, 0.0, 10.0, True, False))
    assert len(snapped) == 804
    _insert(db, 3, US + 3, snapped)
    exact = cdf.encode(EXACT)
    assert len(exact) == 1608
    assert _refused(db, INSERT, {"q": 4, "at": US + 4, "p": None, "pj": None, "cdf": exact})

    migrate.upgrade(db)
    assert migrate.current_revision(db) == migrate.HEAD
    assert _cdfs(db) == [snapped]
    _insert(db, 4, US + 4, exact)
    exact_open = cdf.encode(EXACT_OPEN)
    _insert(db, 3, US + 5, exact_open)
    assert _cdfs(db) == [snapped, exact, exact_open]
    for size in (0, 800, 805, 1604, 1612, 2412):
        assert _refused(db, INSERT, {"q": 3, "at": US + 9, "p": None, "pj": None,
                                     "cdf": b"\0" * size}), size
    # 0009's other rule on the same table still holds: a CDF excludes probabilities.
    assert _refused(db, INSERT, {"q": 3, "at": US + 9, "p": 0.5, "pj": None, "cdf": exact})
    assert _search(db, "lisbon") == [1] and _search(db, "much") == [3, 4]
    with db.engine.connect() as conn:
        if db.is_sqlite:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.execute(text("SELECT COUNT(*) FROM forecasts")).scalar() == 5

    _downgrade(db, "0010")
    assert migrate.current_revision(db) == "0010"
    # The 1608-byte CDFs are snapped (still valid, within 2e-6), the 804-byte one kept.
    after = _cdfs(db)
    assert after == [snapped, cdf.encode(cdf.snap(EXACT)), cdf.encode(cdf.snap(EXACT_OPEN))]
    assert [len(b) for b in after] == [804, 804, 804]
    for data, given, lower in ((after[1], EXACT, False), (after[2], EXACT_OPEN, True)):
        values = cdf.decode(data)
        cdf.validate_cdf(values, open_lower=lower, open_upper=False)
        assert 0 < np.abs(values - given).max() <= 2e-6
    assert _refused(db, INSERT, {"q": 4, "at": US + 8, "p": None, "pj": None, "cdf": exact})
    assert _search(db, "lisbon") == [1]
    with db.engine.connect() as conn:
        if db.is_sqlite:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.execute(text("SELECT COUNT(*) FROM forecasts")).scalar() == 5

    migrate.upgrade(db)  # and up again: the snapped rows stay as they are
    assert migrate.is_current(db)
    assert _cdfs(db) == after
    _insert(db, 4, US + 9, exact)
    assert _cdfs(db)[-1] == exact


def test_downgrade_converts_more_rows_than_one_batch(empty_db):  # noqa: F811
    """The downgrade goes by batches of ids: every 1608-byte row is converted, the 804-byte
    ones among them are left, whatever batch they fall in."""
    import importlib

    batch = importlib.import_module("forecasts.migrations.versions.0011_exact_cdf")._BATCH
    db = empty_db
    migrate.upgrade(db)
    with db.engine.begin() as conn:
        _old_rows(conn)
        _numeric(conn, 3)
    base = cdf.encode(EXACT_OPEN)
    shifted = cdf.encode(open_lower(0.0011))
    on_grid = cdf.encode(cdf.snap(open_lower(0.0012)))
    rows = [on_grid if i % 997 == 0 or i == batch + 1 else (base if i % 2 else shifted) for i in range(batch + 3)]
    with db.engine.begin() as conn:
        conn.execute(text(INSERT), [{"q": 3, "at": US + i, "p": None, "pj": None, "cdf": b}
                                    for i, b in enumerate(rows)])
    _downgrade(db, "0010")
    snapped = {base: cdf.encode(cdf.snap(EXACT_OPEN)),
               shifted: cdf.encode(cdf.snap(open_lower(0.0011))), on_grid: on_grid}
    assert len({len(b) for b in rows[:batch]}) == len({len(b) for b in rows[batch:]}) == 2
    assert _cdfs(db) == [snapped[b] for b in rows]
