"""`forecasts synth`: a realistic synthetic data set, straight into the database."""
from __future__ import annotations

import sys
import time

import click

from forecasts.commands.common import Context, pass_ctx


@click.command("synth")
@click.option("--questions", type=int, required=True, help="Questions to create.")
@click.option("--users", type=int, required=True, help="Users to create (no password).")
@click.option("--forecasts", type=int, required=True, help="Forecasts over those questions.")
@click.option("--hot-question-forecasts", type=int, default=0, show_default=True,
              help="Add one open question with this many forecasts.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Random seed; also names the rows, so two seeds can share a database.")
@pass_ctx
def synth(ctx: Context, questions: int, users: int, forecasts: int,
          hot_question_forecasts: int, seed: int) -> None:
    """Generate questions, users and forecasts (scored once at the end), in one transaction."""
    from forecasts.services import synth as service

    start = time.perf_counter()
    total = forecasts + hot_question_forecasts
    with ctx.database().transaction() as session:
        if sys.stderr.isatty() and total:
            with click.progressbar(length=total, label="forecasts", file=sys.stderr) as bar:
                counts = service.synth(session, questions=questions, users=users,
                                       forecasts=forecasts, hot_question_forecasts=hot_question_forecasts,
                                       seed=seed, progress=bar.update)
        else:
            counts = service.synth(session, questions=questions, users=users, forecasts=forecasts,
                                   hot_question_forecasts=hot_question_forecasts, seed=seed)
    click.echo(f"created {counts.users} users, {counts.questions} questions "
               f"({counts.resolved} resolved) and {counts.forecasts} forecasts "
               f"in {time.perf_counter() - start:.1f} s")


COMMANDS = [synth]
