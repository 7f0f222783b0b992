"""Observations of named series, which resolution rules read: `observe record/import/list`."""
from __future__ import annotations

from typing import Any

import click

from forecasts import timeutil
from forecasts.commands.common import (ACTOR, FORMATS_CSV, Context, emit, pass_ctx, read_text,
                                       when)


class ObserveGroup(click.Group):
    """`forecasts observe SERIES VALUE ...` is short for `forecasts observe record ...`."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["record", *args]
        return super().resolve_command(ctx, args)


@click.group(cls=ObserveGroup)
def observe() -> None:
    """Record, import and list observations of named series."""


@observe.command("record", context_settings={"ignore_unknown_options": True})
@click.argument("series")
@click.argument("value")
@click.option("--at", "at", required=True, help="When the value was observed (UTC).")
@click.option("--source", help="Where it comes from, e.g. a URL.")
@click.option("--new-series", is_flag=True,
              help="Allow a series with no observations yet that no rule reads.")
@pass_ctx
def observe_record(ctx: Context, series: str, value: str, at: str, source: str | None,
                   new_series: bool) -> None:
    """Record one observation (negative values are fine: `observe rate -0.5 --at T`)."""
    from forecasts.services import observations

    with ctx.database().transaction() as session:
        o = observations.record(session, series, value, when(at, "--at"), source=source,
                                actor=ACTOR, new_series=new_series, at_where="--at")
        click.echo(f"recorded {o.series} = {o.value!r} at {timeutil.iso(o.at)}")


@observe.command("import")
@click.argument("path")
@click.option("--new-series", is_flag=True,
              help="Allow rows of series with no observations yet that no rule reads.")
@pass_ctx
def observe_import(ctx: Context, path: str, new_series: bool) -> None:
    """Import observations from CSV (series,at,value,source): all rows or none."""
    from forecasts.services import observations

    text = read_text(path)
    with ctx.database().transaction() as session:
        added, skipped = observations.import_csv(session, text, actor=ACTOR,
                                                 new_series=new_series)
    skipped_note = f" ({skipped} already recorded)" if skipped else ""
    click.echo(f"imported {added} observations{skipped_note}")


@observe.command("list")
@click.argument("series")
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@pass_ctx
def observe_list(ctx: Context, series: str, fmt: str) -> None:
    """A series' observations in time order."""
    from forecasts.services import observations

    with ctx.database().session() as session:
        rows = [{"at": timeutil.iso(o.at), "value": o.value, "source": o.source,
                 "recorded_by": o.recorded_by, "recorded_at": timeutil.iso(o.recorded_at)}
                for o in observations.series_observations(
                    session, observations.check_series(series))]
    emit(rows, fmt, ["at", "value", "source", "recorded_by", "recorded_at"])


COMMANDS = [observe]
