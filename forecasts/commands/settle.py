"""Settling questions: `resolve`, `annul` (with --dry-run), `resolve-due` and `history`."""
from __future__ import annotations

import json
from typing import Any, Callable

import click

from forecasts import timeutil
from forecasts.commands.common import ACTOR, FORMATS, Context, emit, pass_ctx, when


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


# A negative number (a numeric question's value) is an outcome, not an unknown option.
@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("slug")
@click.argument("outcome")
@click.option("--known-at", help="When the outcome became known (default: close, or now).")
@click.option("--note", default="", help="Why, with a source.")
@click.option("--force", is_flag=True, help="Change a settled question; the old one is kept.")
@_dry_run_option
@pass_ctx
def resolve(ctx: Context, slug: str, outcome: str, known_at: str | None, note: str,
            force: bool, dry_run: bool) -> None:
    """Resolve a question, cascade to dependent rules, rescore: one transaction.

    OUTCOME is a label (yes/no, an option), or for a numeric question a number (negative
    ones too) and for a date question an ISO 8601 timestamp."""
    from forecasts.services import corrections

    moment = when(known_at, "--known-at")
    _settle_command(ctx, slug, dry_run, lambda session, q: corrections.resolve(
        session, q, outcome, known_at=moment, note=note, actor=ACTOR, force=force,
        aggregator=ctx.aggregator()))


@click.command()
@click.argument("slug")
@click.option("--reason", required=True, help="Why the question is annulled.")
@click.option("--force", is_flag=True, help="Annul a settled question; the old one is kept.")
@_dry_run_option
@pass_ctx
def annul(ctx: Context, slug: str, reason: str, force: bool, dry_run: bool) -> None:
    """Annul a question (it is never scored) and cascade to dependent rules."""
    from forecasts.services import corrections

    _settle_command(ctx, slug, dry_run, lambda session, q: corrections.annul(
        session, q, reason, actor=ACTOR, force=force, aggregator=ctx.aggregator()))


@click.command("resolve-due")
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
            plan = due.resolve_due(session, now=moment, actor=ACTOR, recorded_at=actual,
                                   aggregator=ctx.aggregator())
    for item in plan.settle:
        click.echo(("would settle " if dry_run else "settled ") + due.line(item))
    if dry_run:
        for question, undecided in plan.waiting:
            click.echo(f"waiting {question.slug}: {undecided.reason}")


@click.command()
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


COMMANDS = [resolve, annul, resolve_due, history]
