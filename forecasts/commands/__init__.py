"""The `forecasts` subcommands, one module per concern; `register` adds them to the root group.

Each command parses its input, calls a service and renders the result. Services, Flask and
Alembic are imported inside the commands that use them, so that the CLI starts fast.
"""
from __future__ import annotations

import click

from forecasts.commands import (admin, backup, crowd, mail, observe, questions, scores, settle,
                                synth, tournaments, users, worker)

MODULES = (admin, users, questions, observe, settle, scores, crowd, worker, mail, synth, backup,
           tournaments)


def register(group: click.Group) -> None:
    """Add every subcommand to `group` (the root `forecasts` group in cli.py)."""
    for module in MODULES:
        for command in module.COMMANDS:
            group.add_command(command)
