"""The built wheel (not the checkout) carries everything the app needs at run time."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = r"""
import sys, forecasts, cli
assert forecasts.__file__.startswith(sys.argv[1]), forecasts.__file__
assert cli.__file__.startswith(sys.argv[1]), cli.__file__
from forecasts import create_app, migrate
from forecasts.db import Database
from forecasts.services import demo
url = "sqlite:///" + sys.argv[2]
db = Database(url)
migrate.upgrade(db)
with db.transaction() as session:
    demo.seed(session)
app = create_app({"DATABASE_URL": url, "FORECASTS_ENV": "testing", "SECRET_KEY": "x"})
client = app.test_client()
page = client.get("/")
assert page.status_code == 200, page.status_code
assert b"military strike on Mexican soil" in page.data
assert client.get("/static/style.css").status_code == 200
print("ok")
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(out), str(ROOT)], check=True, cwd=out)
    return next(out.glob("forecasts-*.whl"))


def test_wheel_contents(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "cli.py" in names
    for needed in ("forecasts/templates/base.html", "forecasts/static/style.css",
                   "forecasts/migrations/env.py", "forecasts/migrations/script.py.mako",
                   "forecasts/demo_data/questions.json", "forecasts/data/common-passwords.txt",
                   "scoring/__init__.py"):
        assert needed in names, needed
    versions = [n for n in names if n.startswith("forecasts/migrations/versions/0")]
    assert len(versions) == len(list((ROOT / "forecasts/migrations/versions").glob("0*.py")))
    templates = {p.relative_to(ROOT / "templates").as_posix()
                 for p in (ROOT / "templates").rglob("*.html")}
    assert {n.removeprefix("forecasts/templates/") for n in names
            if n.startswith("forecasts/templates/")} >= templates
    packages = {p.parent.relative_to(ROOT).as_posix()
                for p in list((ROOT / "forecasts").rglob("*.py")) + list((ROOT / "scoring").rglob("*.py"))}
    assert {n.rsplit("/", 1)[0] for n in names if n.endswith(".py")} >= packages
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "forecasts = cli:run" in zipfile.ZipFile(wheel).read(entry).decode()


def test_installed_wheel_serves_pages(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                    str(target), str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("FORECASTS_ENV", None)
    result = subprocess.run([sys.executable, "-c", CHECK, str(target), str(tmp_path / "db.sqlite3")],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
