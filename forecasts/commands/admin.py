"""Running the platform: `init-db`, `serve` and `demo` (accounts are in users.py)."""
from __future__ import annotations

from typing import Any, Callable

import click

from forecasts import migrate
from forecasts.commands.common import Context, pass_ctx


@click.command("init-db")
@pass_ctx
def init_db(ctx: Context) -> None:
    """Create or migrate the database schema (idempotent); the crowd's stored figures
    follow CROWD_AGGREGATOR if it changed."""
    from forecasts.services import aggregation

    db = ctx.database(check_schema=False)
    migrate.upgrade(db)
    click.echo(f"schema at revision {migrate.current_revision(db)}")
    agg = ctx.aggregator()
    with db.session() as session:
        changed = aggregation.differs(session, agg)
    if changed:
        with db.transaction() as session:
            aggregation.follow(session, agg)  # checked again under the write lock
        click.echo(f"crowd rescored with {aggregation.label(agg)}")


def _serve(ctx: Context, app: Any, host: str, port: int, threads: int, scheduler: bool) -> None:
    """Serve `app` with waitress; unless told not to, the scheduler runs in a daemon thread."""
    from waitress import serve as waitress_serve

    background = None
    if scheduler:
        from forecasts.services.scheduler import Background

        interval = ctx.settings["SCHEDULER_INTERVAL_S"]
        background = Background(ctx.database(), interval,
                                report=lambda text: click.echo(f"scheduler: {text}"),
                                settings=ctx.app_settings()).start()
        click.echo(f"scheduler: settling due questions every {interval} s")
    click.echo(f"serving on http://{host}:{port}")
    try:
        waitress_serve(app, host=host, port=port, threads=threads)
    finally:
        if background is not None:
            background.stop()


def server_options(func: Callable) -> Callable:
    func = click.option("--no-scheduler", "no_scheduler", is_flag=True,
                        help="Do not run the scheduler (settling due questions) in this "
                             "process.")(func)
    func = click.option("--threads", default=8, show_default=True, help="Worker threads.")(func)
    func = click.option("--port", default=5000, show_default=True)(func)
    return click.option("--host", default="127.0.0.1", show_default=True)(func)


@click.command()
@server_options
@pass_ctx
def serve(ctx: Context, host: str, port: int, threads: int, no_scheduler: bool) -> None:
    """Run the web app with a production WSGI server (waitress) and the scheduler."""
    from forecasts import create_app

    ctx.database()
    _serve(ctx, create_app(), host, port, threads, not no_scheduler)


@click.command()
@click.option("--serve", "then_serve", is_flag=True, help="Serve the web app afterwards.")
@server_options
@pass_ctx
def demo(ctx: Context, then_serve: bool, host: str, port: int, threads: int,
         no_scheduler: bool) -> None:
    """Seed the demo data set into an empty database (skipped if it has questions)."""
    from forecasts.services import demo as demo_service

    db = ctx.database()
    with db.transaction() as session:
        counts = demo_service.seed(session)
    if counts is None:
        click.echo("the database already has questions; demo data not added")
    else:
        click.echo("demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        click.echo(f"log in as {demo_service.LOGIN} with password {demo_service.PASSWORD}")
    if then_serve:
        from forecasts import create_app

        overrides = {}
        if ctx.settings["FORECASTS_ENV"] == "production" and not ctx.settings["SECRET_KEY"]:
            overrides = {"FORECASTS_ENV": "development"}
        _serve(ctx, create_app(overrides), host, port, threads, not no_scheduler)


COMMANDS = [init_db, serve, demo]
