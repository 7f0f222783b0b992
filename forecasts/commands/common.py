"""What the commands share: the context with its database, the actor, input and output helpers.

Only light modules are imported here: the CLI must start fast, so services, Flask and
Alembic are imported inside the commands that need them.
"""
from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any, Sequence

import click

from forecasts import config as settings
from forecasts import csvout
from forecasts import migrate, timeutil
from forecasts.db import Database


class Context:
    """What commands share: the settings and, once asked for, the database."""

    def __init__(self) -> None:
        self.settings = settings.load()
        self._db: Database | None = None

    def database(self, *, check_schema: bool = True) -> Database:
        """The database, opened on first use and closed when the command ends."""
        if self._db is None:
            self._db = Database(self.settings["DATABASE_URL"],
                                busy_timeout_ms=self.settings["SQLITE_BUSY_TIMEOUT_MS"])
            # Closing the last connection lets SQLite fold its WAL into the file.
            click.get_current_context().call_on_close(self._db.dispose)
        if check_schema and not migrate.is_current(self._db):
            raise click.ClickException(
                "the database schema is missing or out of date; run `forecasts init-db`")
        return self._db


    def aggregator(self) -> Any:
        """The configured crowd aggregator (a scoring.Aggregator; loads the engine)."""
        from forecasts.services import aggregation

        return aggregation.configured(self.settings)

    def app_settings(self) -> dict:
        """The settings with SECRET_KEY required as the web app requires it: jobs that
        mail sign links the site must accept (refused in production without a key)."""
        values = dict(self.settings)
        settings.require_secret_key(values)
        return values


pass_ctx = click.make_pass_decorator(Context, ensure=True)
def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container without USER or a passwd entry
        return "unknown"


ACTOR = f"cli:{_login_name()}"

FORMATS = click.Choice(["table", "json"])
FORMATS_CSV = click.Choice(["table", "json", "csv"])


def when(value: str | None, name: str):
    return None if value is None else timeutil.parse(value, where=name)


def emit(rows: list[dict[str, Any]], fmt: str, columns: Sequence[str]) -> None:
    """Print rows as an aligned table, JSON or CSV."""
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        click.echo(csvout.write(rows, columns), nl=False)
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_cell(v) for v in value) + "]"
    return str(value)


def read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path}: not valid JSON (line {exc.lineno}, "
                                   f"column {exc.colno}: {exc.msg})") from None
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None
