"""Tournaments: `tournament create/add/remove/join/leave/list/show`."""
from __future__ import annotations

import json
from dataclasses import asdict

import click

from forecasts import timeutil
from forecasts.commands.common import ACTOR, FORMATS, Context, emit, pass_ctx, when


@click.group(cls=click.Group)
def tournament() -> None:
    """Create and manage tournaments, their questions and members."""


@tournament.command("create")
@click.argument("slug")
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--start", help="When it starts (ISO 8601).")
@click.option("--end", help="When it ends (ISO 8601).")
@pass_ctx
def tournament_create(ctx: Context, slug: str, title: str, description: str,
                      start: str | None, end: str | None) -> None:
    """Create a tournament."""
    from forecasts.services import tournaments

    start_at, end_at = when(start, "--start"), when(end, "--end")
    with ctx.database().transaction() as session:
        created = tournaments.create(session, slug, title, description, start=start_at,
                                     end=end_at, actor=ACTOR)
        click.echo(f"created tournament {created.slug}")


@tournament.command("add")
@click.argument("slug")
@click.argument("questions", nargs=-1, required=True)
@pass_ctx
def tournament_add(ctx: Context, slug: str, questions: tuple[str, ...]) -> None:
    """Add questions to a tournament."""
    from forecasts.services import tournaments

    with ctx.database().transaction() as session:
        added = tournaments.add_questions(session, slug, questions)
        click.echo(f"added {added} questions to {slug}")


@tournament.command("remove")
@click.argument("slug")
@click.argument("questions", nargs=-1, required=True)
@pass_ctx
def tournament_remove(ctx: Context, slug: str, questions: tuple[str, ...]) -> None:
    """Take questions out of a tournament."""
    from forecasts.services import tournaments

    with ctx.database().transaction() as session:
        removed = tournaments.remove_questions(session, slug, questions)
        click.echo(f"removed {removed} questions from {slug}")


@tournament.command("join")
@click.argument("slug")
@click.argument("user")
@pass_ctx
def tournament_join(ctx: Context, slug: str, user: str) -> None:
    """Make a user a member of a tournament."""
    from forecasts.services import tournaments

    with ctx.database().transaction() as session:
        new = tournaments.join(session, slug, user)
        click.echo(f"{user} joined {slug}" if new else f"{user} is already a member of {slug}")


@tournament.command("leave")
@click.argument("slug")
@click.argument("user")
@pass_ctx
def tournament_leave(ctx: Context, slug: str, user: str) -> None:
    """End a user's membership of a tournament."""
    from forecasts.services import tournaments

    with ctx.database().transaction() as session:
        was = tournaments.leave(session, slug, user)
        click.echo(f"{user} left {slug}" if was else f"{user} was not a member of {slug}")


def _summary(t) -> dict:
    return {"slug": t.slug, "title": t.title, "description": t.description,
            "start_at": timeutil.iso(t.start_at), "end_at": timeutil.iso(t.end_at)}


@tournament.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def tournament_list(ctx: Context, fmt: str) -> None:
    """List the tournaments."""
    from forecasts.services import tournaments

    with ctx.database().session() as session:
        rows = [{**_summary(t), "questions": q, "members": m}
                for t, q, m in tournaments.list_tournaments(session)]
    emit(rows, fmt, ["slug", "start_at", "end_at", "questions", "members", "title"])


@tournament.command("show")
@click.argument("slug")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def tournament_show(ctx: Context, slug: str, fmt: str) -> None:
    """A tournament's questions and leaderboard (Σ peer over its scored questions)."""
    from forecasts.services import tournaments

    with ctx.database().session() as session:
        summary = _summary(tournaments.get(session, slug))
        questions = [{"slug": q.slug, "title": q.title}
                     for q in tournaments.questions_of(session, slug)]
        board = [asdict(s) for s in tournaments.leaderboard(session, slug)]
    if fmt == "json":
        click.echo(json.dumps({**summary, "questions": questions, "leaderboard": board},
                              indent=2))
        return
    click.echo(f"{summary['slug']}: {summary['title']}")
    emit(questions, fmt, ["slug", "title"])
    click.echo("")
    emit(board, fmt, ["rank", "user", "questions", "peer_total", "brier", "coverage"])


COMMANDS = (tournament,)
