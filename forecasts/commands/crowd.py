"""`crowd-compare`: the crowd aggregators scored side by side over the resolved questions."""
from __future__ import annotations

import json
import sys

import click

from forecasts.commands.common import FORMATS, Context, emit, pass_ctx


@click.command("crowd-compare")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=1), default=None,
              help="Bootstrap resamples of each interval (default: LEADERBOARD_BOOTSTRAP).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the bootstrap (default: LEADERBOARD_SEED).")
@click.option("--tag", help="Only the questions with this tag.")
@pass_ctx
def crowd_compare(ctx: Context, fmt: str, n_boot: int | None, seed: int | None,
                  tag: str | None) -> None:
    """Score every crowd aggregator over the resolved questions: mean Brier and log, and
    the paired difference from the configured one with a 90% bootstrap interval."""
    from forecasts.services import aggregation, crowd_compare as service

    reference = ctx.aggregator()
    n_boot = ctx.settings["LEADERBOARD_BOOTSTRAP"] if n_boot is None else n_boot
    seed = ctx.settings["LEADERBOARD_SEED"] if seed is None else seed
    with ctx.database().session() as session:
        def run(progress=lambda agg: None):
            return service.compare(session, reference, a=float(ctx.settings["CROWD_EXTREMIZE_A"]),
                                   tag=tag, n_boot=n_boot, seed=seed, progress=progress)

        if sys.stderr.isatty():
            with click.progressbar(length=3, label="scoring the aggregators",
                                   file=sys.stderr) as bar:
                rows = run(lambda agg: bar.update(1))
        else:
            rows = run()
    label = aggregation.label(reference)
    if fmt == "json":
        click.echo(json.dumps({"reference": label, "bootstrap": n_boot, "seed": seed,
                               "level": 0.9, "aggregators": rows}, indent=2))
        return
    emit(rows, fmt, service.COLUMNS)
    click.echo(f"differences: aggregator minus {label} (the configured one), per question; "
               "below 0 is better; 90% bootstrap intervals")


COMMANDS = [crowd_compare]
