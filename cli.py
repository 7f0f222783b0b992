"""The `forecasts` command: parse options, call a service, print. Admins run the platform here.

This module is the entry point: the root group, whose failures print one line, and the
registry of subcommands, which live in forecasts/commands/ (one module per concern).
"""
from __future__ import annotations

import gc
import sys
from typing import Any, Sequence

import click
from sqlalchemy.exc import SQLAlchemyError

from forecasts import commands
from forecasts.commands.common import Context, pass_ctx
from forecasts.errors import ForecastsError

__all__ = ["Context", "Group", "main", "pass_ctx", "run"]


class Group(click.Group):
    """A group whose failures print one line on stderr: `error: <what and where>`."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             **extra: Any) -> Any:
        try:
            return super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except ForecastsError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except SQLAlchemyError as exc:
            first = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
            click.echo(f"error: database: {first}", err=True)
            sys.exit(1)


@click.group(cls=Group)
@click.version_option(package_name="forecasts")
def main() -> None:
    """Forecasts: forecast tracking and scoring. DATABASE_URL selects the database."""


commands.register(main)


def run() -> None:
    """The `forecasts` program: run `main`, then exit without walking the heap."""
    try:
        main()
    finally:
        # The process is ending and frees everything with it, but the interpreter's
        # final garbage collections would first walk every object that SQLAlchemy and
        # numpy built at import: about 0.1 s of each command's wall time. Frozen
        # objects are skipped. (Not in `main`, which tests call in-process.)
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    run()
