"""`forecasts` as a fresh process, the way scripts run it: it starts fast (a read command
loads neither the web stack nor the plotting, statistics or migration libraries, each
tens to hundreds of milliseconds), and it closes its database on the way out."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("flask", "werkzeug", "jinja2", "itsdangerous", "waitress", "matplotlib", "scipy",
         "alembic", "forecasts.web", "forecasts.api")

# Runs one command in a fresh interpreter, then reports which HEAVY modules it loaded.
_PROBE = """
import json, sys
for name in sys.argv[2:]:
    __import__(name)
from cli import main
main(json.loads(sys.argv[1]))
heavy = sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in {heavy!r}))
print(json.dumps(heavy))
"""


def loaded_heavy_modules(env: dict[str, str], args: list[str], *preload: str) -> tuple[str, list]:
    """(command output, heavy modules loaded) of `forecasts ARGS` run in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _PROBE.format(heavy=HEAVY), json.dumps(args),
                           *preload], cwd=ROOT, env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    *output, report = done.stdout.strip().splitlines()
    return "\n".join(output), json.loads(report)


@pytest.fixture
def scored(runner, tmp_path, reference) -> None:
    """A database holding the first reference bundle: settled questions with scores."""
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(reference["bundles"][0]["bundle"]))
    assert runner("import", path).exit_code == 0


@pytest.mark.parametrize("args", [
    ["leaderboard", "--format", "json"],
    ["leaderboard", "--metric", "peer", "--with-crowd", "--format", "table"],
    ["question", "list", "--format", "json"],
    ["--help"],
])
def test_read_commands_load_no_heavy_library(scored, env, args):
    output, heavy = loaded_heavy_modules(env, args)
    assert heavy == []
    assert output  # the command ran and printed its answer
    if args[0] == "leaderboard" and args[-1] == "json":
        assert [row["rank"] for row in json.loads(output)][:1] == [1]


def test_the_probe_sees_a_heavy_import(env):
    _, heavy = loaded_heavy_modules(env, ["leaderboard", "--format", "json"], "flask")
    assert "flask" in heavy


def run_program(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`python -m cli ARGS`: the program's own entry point, as the console script runs it."""
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_program_closes_the_database_when_a_command_ends(scored, env, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's write-ahead log shows whether the last connection closed")
    path = Path(db_url.removeprefix("sqlite:///"))
    for args in (["rescore"], ["leaderboard", "--format", "json"], ["resolve", "nope", "yes"]):
        done = run_program(env, *args)
        assert done.returncode == (1 if args[0] == "resolve" else 0), done.stderr
        # The last connection to close folds the log into the file and deletes it.
        assert sorted(p.name for p in path.parent.glob(path.name + "*")) == [path.name], args


def test_the_program_fails_with_one_line(env):
    done = run_program(env, "leaderboard", "--metric", "nope")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
