"""``scoring`` stands alone: numpy, scipy and the standard library only
(SPEC section 2). Checked at run time in a fresh interpreter and statically."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scoring"
BANNED = ("flask", "sqlalchemy", "forecasts", "click")

_PROBE = """
import importlib, json, pkgutil, sys
import scoring
names = [m.name for m in pkgutil.walk_packages(scoring.__path__, "scoring.")]
for name in names:
    importlib.import_module(name)
banned = sorted(n for n in sys.modules if n.startswith(("flask", "sqlalchemy", "forecasts")))
print(json.dumps({"file": scoring.__file__, "imported": names, "banned": banned}))
"""


def test_importing_every_scoring_module_loads_no_app_module():
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(report["file"]).resolve() == PACKAGE / "__init__.py"
    # The walk reached every module of the package, so the check covers them all.
    expected = {f"scoring.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert expected <= set(report["imported"])
    assert report["banned"] == []


def banned_imports(source: str, filename: str = "<string>"):
    """(line, module) of every import of a BANNED package (or its ``_``
    extensions, e.g. flask_login) in ``source``: import statements, absolute
    from-imports, relative imports that leave the package, and
    importlib.import_module / __import__ calls with a literal name."""
    found = []

    def check(line, name):
        root = (name or "").split(".")[0]
        if root in BANNED or root.startswith(tuple(b + "_" for b in BANNED)):
            found.append((line, name))

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                check(node.lineno, node.module)
            elif node.level > 1:  # climbs out of the package
                found.append((node.lineno, "." * node.level + (node.module or "")))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            arg = node.args[0]
            if called in ("import_module", "__import__") and isinstance(arg, ast.Constant) \
                    and isinstance(arg.value, str):
                check(node.lineno, arg.value)
    return found


def test_no_scoring_source_imports_the_app_or_its_libraries():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 10
    offenders = {str(f.relative_to(ROOT)): banned_imports(f.read_text(), str(f)) for f in files}
    assert {f: hits for f, hits in offenders.items() if hits} == {}


def test_banned_import_check_finds_each_form():
    source = "\n".join([
        "import numpy as np",
        "import flask.json",
        "from sqlalchemy import select",
        "from forecasts.models import Question",
        "import os, click",
        "from . import rules",
        "from .. import forecasts",
        "import importlib",
        "mod = importlib.import_module('flask_login')",
        "__import__('sqlalchemy.orm')",
        "import forecasting_tools",
    ])
    assert sorted(banned_imports(source)) == [
        (2, "flask.json"), (3, "sqlalchemy"), (4, "forecasts.models"), (5, "click"),
        (7, ".."), (9, "flask_login"), (10, "sqlalchemy.orm")]
