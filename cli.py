"""The `forecasts` command: parse options, call a service, print. Admins run the platform here."""
from __future__ import annotations

import csv
import getpass
import io
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import click
from sqlalchemy.exc import SQLAlchemyError

from forecasts import config as settings
from forecasts import migrate, timeutil
from forecasts.db import Database
from forecasts.errors import ForecastsError


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


class Context:
    """What commands share: the settings and, once asked for, the database."""

    def __init__(self) -> None:
        self.settings = settings.load()
        self._db: Database | None = None

    def database(self, *, check_schema: bool = True) -> Database:
        if self._db is None:
            self._db = Database(self.settings["DATABASE_URL"],
                                busy_timeout_ms=self.settings["SQLITE_BUSY_TIMEOUT_MS"])
        if check_schema and not migrate.is_current(self._db):
            raise click.ClickException(
                "the database schema is missing or out of date; run `forecasts init-db`")
        return self._db


pass_ctx = click.make_pass_decorator(Context, ensure=True)
ACTOR = f"cli:{getpass.getuser()}"


def when(value: str | None, name: str):
    return None if value is None else timeutil.parse(value, where=name)


def emit(rows: list[dict[str, Any]], fmt: str, columns: Sequence[str]) -> None:
    """Print rows as an aligned table, JSON or CSV."""
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        click.echo(out.getvalue(), nl=False)
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


@click.group(cls=Group)
@click.version_option(package_name="forecasts")
def main() -> None:
    """Forecasts: forecast tracking and scoring. DATABASE_URL selects the database."""


@main.command("init-db")
@pass_ctx
def init_db(ctx: Context) -> None:
    """Create or migrate the database schema (idempotent)."""
    db = ctx.database(check_schema=False)
    migrate.upgrade(db)
    click.echo(f"schema at revision {migrate.current_revision(db)}")


def _serve(app: Any, host: str, port: int, threads: int) -> None:
    from waitress import serve as waitress_serve

    click.echo(f"serving on http://{host}:{port}")
    waitress_serve(app, host=host, port=port, threads=threads)


def server_options(func: Callable) -> Callable:
    func = click.option("--threads", default=8, show_default=True, help="Worker threads.")(func)
    func = click.option("--port", default=5000, show_default=True)(func)
    return click.option("--host", default="127.0.0.1", show_default=True)(func)


@main.command()
@server_options
@pass_ctx
def serve(ctx: Context, host: str, port: int, threads: int) -> None:
    """Run the web app with a production WSGI server (waitress)."""
    from forecasts import create_app

    ctx.database()
    _serve(create_app(), host, port, threads)


@main.command()
@click.option("--serve", "then_serve", is_flag=True, help="Serve the web app afterwards.")
@server_options
@pass_ctx
def demo(ctx: Context, then_serve: bool, host: str, port: int, threads: int) -> None:
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
        _serve(create_app(overrides), host, port, threads)


# --- users -----------------------------------------------------------------

@main.group(cls=click.Group)
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Give the admin role.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@pass_ctx
def user_create(ctx: Context, name: str, admin: bool, password_stdin: bool) -> None:
    """Create a user (without --password-stdin the account cannot log in)."""
    from forecasts.passwords import Passwords
    from forecasts.services import users

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    with ctx.database().transaction() as session:
        created = users.create_user(session, name, password=password,
                                    role="admin" if admin else "forecaster",
                                    passwords=Passwords(fast=ctx.settings["PASSWORD_HASH_FAST"]))
        click.echo(f"created {created.role} {created.username}")


# --- questions --------------------------------------------------------------

@main.group(cls=click.Group)
def question() -> None:
    """Create, import and list questions."""


@question.command("create")
@click.option("--file", "path", required=True, help="A JSON file with one question.")
@pass_ctx
def question_create(ctx: Context, path: str) -> None:
    """Create a question from a JSON definition (SPEC section 3)."""
    from forecasts.services import questions

    data = read_json(path)
    with ctx.database().transaction() as session:
        created = questions.create_question(session, data)
        click.echo(f"created question {created.slug}")


@question.command("import")
@click.argument("path")
@pass_ctx
def question_import(ctx: Context, path: str) -> None:
    """Import questions from CSV (atomic; errors name the row)."""
    from forecasts.services import question_csv

    text = _read_text(path)
    with ctx.database().transaction() as session:
        created = question_csv.import_csv(session, text)
        click.echo(f"imported {len(created)} questions")


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise click.ClickException(f"{path}: not UTF-8 text") from None


FORMATS = click.Choice(["table", "json"])
FORMATS_CSV = click.Choice(["table", "json", "csv"])


@question.command("list")
@click.option("--status", type=click.Choice(["upcoming", "open", "closed", "resolved", "annulled"]))
@click.option("--tag")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def question_list(ctx: Context, status: str | None, tag: str | None, fmt: str) -> None:
    """List questions with their status."""
    from forecasts.services import questions

    db = ctx.database()
    with db.session() as session:
        rows = questions.list_questions(session, now=timeutil.now(), status=status, tag=tag)
        out = [{"slug": r.question.slug, "status": r.status, "kind": r.question.kind,
                "close_at": timeutil.iso(r.question.close_at), "forecasters": r.forecasters,
                "outcome": r.resolution.outcome if r.resolution else None,
                "tags": r.question.tags, "title": r.question.title} for r in rows]
    emit(out, fmt, ["slug", "status", "kind", "close_at", "forecasters", "outcome", "title"])


# --- bundles ----------------------------------------------------------------

@main.command("import")
@click.argument("path")
@pass_ctx
def import_(ctx: Context, path: str) -> None:
    """Import a bundle: all of it, or nothing."""
    from forecasts.services import bundle

    doc = read_json(path)
    with ctx.database().transaction() as session:
        counts = bundle.import_bundle(session, doc, actor=ACTOR)
    click.echo("imported " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@main.command("export")
@click.argument("path")
@pass_ctx
def export(ctx: Context, path: str) -> None:
    """Export everything but passwords and tokens as a bundle ('-' for stdout)."""
    from forecasts.services import bundle

    with ctx.database().session() as session:
        doc = bundle.export_bundle(session)
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if path == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None
    click.echo(f"exported {len(doc['questions'])} questions and {len(doc['forecasts'])} "
               f"forecasts to {path}")


# --- observations -----------------------------------------------------------

class ObserveGroup(click.Group):
    """`forecasts observe SERIES VALUE ...` is short for `forecasts observe record ...`."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["record", *args]
        return super().resolve_command(ctx, args)


@main.group(cls=ObserveGroup)
def observe() -> None:
    """Record, import and list observations of named series."""


@observe.command("record", context_settings={"ignore_unknown_options": True})
@click.argument("series")
@click.argument("value")
@click.option("--at", "at", required=True, help="When the value was observed (UTC).")
@click.option("--source", help="Where it comes from, e.g. a URL.")
@pass_ctx
def observe_record(ctx: Context, series: str, value: str, at: str, source: str | None) -> None:
    """Record one observation (negative values are fine: `observe rate -0.5 --at T`)."""
    from forecasts.services import observations

    with ctx.database().transaction() as session:
        o = observations.record(session, series, value, when(at, "--at"), source=source,
                                actor=ACTOR)
        click.echo(f"recorded {o.series} = {o.value!r} at {timeutil.iso(o.at)}")


@observe.command("import")
@click.argument("path")
@pass_ctx
def observe_import(ctx: Context, path: str) -> None:
    """Import observations from CSV (series,at,value,source): all rows or none."""
    from forecasts.services import observations

    text = _read_text(path)
    with ctx.database().transaction() as session:
        added, skipped = observations.import_csv(session, text, actor=ACTOR)
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


# --- resolution -------------------------------------------------------------

def _dry_run_option(func: Callable) -> Callable:
    return click.option("--dry-run", is_flag=True,
                        help="Show the cascade and leaderboard changes; write nothing.")(func)


def _settle_command(ctx: Context, slug: str, dry_run: bool, apply: Callable) -> None:
    """Run `apply(session, question)` (a corrections call), print it, commit or roll back."""
    from forecasts.services import corrections, questions

    if not dry_run:
        with ctx.database().transaction() as session:
            done = apply(session, questions.get_question(session, slug))
            _print_settled(slug, done)
        return
    with ctx.database().session(write=True) as session:
        q = questions.get_question(session, slug)
        done, diffs = corrections.preview(session, lambda: apply(session, q),
                                          n_boot=ctx.settings["LEADERBOARD_BOOTSTRAP"],
                                          seed=ctx.settings["LEADERBOARD_SEED"])
        click.echo("dry run: nothing was written")
        _print_settled(slug, done, dry_run=True)
        click.echo("leaderboard (brier) changes:" if diffs else "leaderboard (brier): no change")
        for diff in diffs:
            click.echo("  " + corrections.board_change(diff))
        session.rollback()


def _print_settled(slug: str, done: Any, *, dry_run: bool = False) -> None:
    r = done.resolution
    if r.annulled:
        click.echo(f"{'would annul' if dry_run else 'annulled'} {slug}")
    else:
        click.echo(f"{'would resolve' if dry_run else 'resolved'} {slug} as {r.outcome}")
    for change in done.changes:
        after = ("reopened" if change.after is None
                 else f"{change.before or 'unsettled'} -> {change.after}")
        click.echo(f"  cascade: {change.slug} {after} ({change.reason})")


@main.command()
@click.argument("slug")
@click.argument("outcome")
@click.option("--known-at", help="When the outcome became known (default: close, or now).")
@click.option("--note", default="", help="Why, with a source.")
@click.option("--force", is_flag=True, help="Change a settled question; the old one is kept.")
@_dry_run_option
@pass_ctx
def resolve(ctx: Context, slug: str, outcome: str, known_at: str | None, note: str,
            force: bool, dry_run: bool) -> None:
    """Resolve a question, cascade to dependent rules, rescore: one transaction."""
    from forecasts.services import corrections

    moment = when(known_at, "--known-at")
    _settle_command(ctx, slug, dry_run, lambda session, q: corrections.resolve(
        session, q, outcome, known_at=moment, note=note, actor=ACTOR, force=force))


@main.command()
@click.argument("slug")
@click.option("--reason", required=True, help="Why the question is annulled.")
@click.option("--force", is_flag=True, help="Annul a settled question; the old one is kept.")
@_dry_run_option
@pass_ctx
def annul(ctx: Context, slug: str, reason: str, force: bool, dry_run: bool) -> None:
    """Annul a question (it is never scored) and cascade to dependent rules."""
    from forecasts.services import corrections

    _settle_command(ctx, slug, dry_run, lambda session, q: corrections.annul(
        session, q, reason, actor=ACTOR, force=force))


@main.command("resolve-due")
@click.option("--now", "as_of", help="Decide as of this time (default: now).")
@click.option("--dry-run", is_flag=True, help="Print what would be settled; write nothing.")
@pass_ctx
def resolve_due(ctx: Context, as_of: str | None, dry_run: bool) -> None:
    """Settle every question whose rule can decide now, with evidence and scores."""
    from forecasts.services import resolve_due as due

    actual = timeutil.now()
    moment = when(as_of, "--now") or actual
    db = ctx.database()
    if dry_run:
        with db.session() as session:
            plan = due.plan(session, moment)
    else:
        with db.transaction() as session:
            plan = due.resolve_due(session, now=moment, actor=ACTOR, recorded_at=actual)
    for item in plan.settle:
        click.echo(("would settle " if dry_run else "settled ") + due.line(item))
    if dry_run:
        for question, undecided in plan.waiting:
            click.echo(f"waiting {question.slug}: {undecided.reason}")


@main.command()
@click.argument("slug")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def history(ctx: Context, slug: str, fmt: str) -> None:
    """The audit log of a question's resolutions, oldest first."""
    from forecasts.services import corrections, questions

    with ctx.database().session() as session:
        rows = corrections.audit_log(session, questions.get_question(session, slug))
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif not rows:
        click.echo(f"{slug}: never resolved")
    else:
        emit(rows, fmt, ["made_at", "actor", "source", "outcome", "known_at", "superseded_at",
                         "note"])


@main.command()
@click.argument("slug", required=False)
@pass_ctx
def rescore(ctx: Context, slug: str | None) -> None:
    """Recompute stored scores for one question, or for all."""
    from forecasts.services import questions, scores

    with ctx.database().transaction() as session:
        ids = None if slug is None else [questions.get_question(session, slug).id]
        n = scores.rescore_questions(session, ids)
    click.echo(f"rescored {slug or 'all questions'}: {n} score rows")


# --- scores -----------------------------------------------------------------

@main.command()
@click.argument("slug")
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@pass_ctx
def scores(ctx: Context, slug: str, fmt: str) -> None:
    """Scores of each forecaster and the crowd on a settled question."""
    from forecasts.services import questions
    from forecasts.services import scores as score_service

    with ctx.database().session() as session:
        doc = score_service.question_scores(session, questions.get_question(session, slug))
    if doc is None:
        raise click.ClickException(f"question {slug!r} is not resolved yet")
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    rows = [{"user": name, **values} for name, values in doc["users"].items()]
    if doc["crowd"]:
        rows.append({"user": "crowd", **doc["crowd"]})
    if fmt == "table":
        click.echo(f"{slug}: {doc['outcome']}")
    emit(rows, fmt, ["user", "brier", "log", "rps", "peer", "coverage"])


@main.command()
@click.option("--metric", type=click.Choice(["brier", "log", "peer", "peer_total"]),
              default="brier", show_default=True)
@click.option("--tag")
@click.option("--from", "resolved_from", help="Only questions whose effective close is at or after T.")
@click.option("--to", "resolved_to", help="Only questions whose effective close is before T.")
@click.option("--min-questions", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--with-crowd", is_flag=True, help="Add the crowd as an unranked row.")
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@pass_ctx
def leaderboard(ctx: Context, metric: str, tag: str | None, resolved_from: str | None,
                resolved_to: str | None, min_questions: int, with_crowd: bool, fmt: str) -> None:
    """Rank forecasters over resolved questions, with 90% bootstrap intervals."""
    from forecasts.services import leaderboard as board

    with ctx.database().session() as session:
        rows = board.leaderboard(
            session, metric=metric, tag=tag, resolved_from=when(resolved_from, "--from"),
            resolved_to=when(resolved_to, "--to"), min_questions=min_questions,
            with_crowd=with_crowd, n_boot=ctx.settings["LEADERBOARD_BOOTSTRAP"],
            seed=ctx.settings["LEADERBOARD_SEED"])
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        click.echo(board.leaderboard_csv(rows), nl=False)
    else:
        emit(board.flat_rows(rows), fmt, board.COLUMNS)


@main.command()
@click.argument("username")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--plot", "plot_path", help="Also draw a reliability diagram (.svg or .png).")
@pass_ctx
def calibration(ctx: Context, username: str, fmt: str, plot_path: str | None) -> None:
    """Calibration of a user (or `crowd`) over resolved binary questions."""
    from forecasts.services import calibration as cal

    if plot_path and not plot_path.lower().endswith((".svg", ".png")):
        raise click.ClickException(f"{plot_path}: --plot takes a .svg or .png file name")
    with ctx.database().session() as session:
        doc = cal.calibration(session, username)
    if plot_path:
        from forecasts import plots

        try:
            plots.reliability_diagram(doc, plot_path)
        except OSError as exc:
            raise click.ClickException(f"{plot_path}: {exc.strerror}") from None
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{doc['user']}: {doc['questions']} questions")
    emit([{"bin": f"{b['low_edge']:.1f}-{b['high_edge']:.1f}", **b} for b in doc["bins"]], fmt,
         ["bin", "count", "weight", "mean_forecast", "observed", "low", "high"])
    if doc["murphy"]:
        m = doc["murphy"]
        click.echo(f"Brier (one-sided) {m['brier']:.4f} = reliability {m['reliability']:.4f}"
                   f" - resolution {m['resolution']:.4f} + uncertainty {m['uncertainty']:.4f}")


if __name__ == "__main__":  # pragma: no cover
    main()
