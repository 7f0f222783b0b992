"""`forecasts worker`: the scheduler on its own, for deployments with several app servers."""
from __future__ import annotations

import logging
import signal
import threading

import click

from forecasts.commands.common import Context, pass_ctx, when


@click.command()
@click.option("--once", is_flag=True, help="Run one pass of every scheduled job and exit.")
@click.option("--now", "as_of", help="With --once: decide as of this time (not in the future).")
@pass_ctx
def worker(ctx: Context, once: bool, as_of: str | None) -> None:
    """Run the scheduled jobs (settling due questions) every SCHEDULER_INTERVAL_S seconds."""
    from forecasts.errors import InvalidInput
    from forecasts.services import scheduler

    moment = when(as_of, "--now")
    if moment is not None and not once:
        raise InvalidInput("only with --once (a running worker decides as of each pass)",
                           where="--now")
    db = ctx.database()
    if once:
        result = scheduler.run_once(db, now=moment, settings=ctx.app_settings())
        for text in result.lines:
            click.echo(text)
        if result.failed:
            raise click.ClickException("; ".join(f"job {e}" for e in result.errors()))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    interval = ctx.settings["SCHEDULER_INTERVAL_S"]
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    click.echo(f"worker: running the scheduled jobs every {interval} s; stop with SIGTERM "
               "or Ctrl-C")
    scheduler.run_forever(db, interval, stop, report=lambda text: click.echo(text),
                          settings=ctx.app_settings())
    click.echo("worker: stopped")


COMMANDS = [worker]
