"""Getting questions in and out: `question create/import/list` and bundle `import`/`export`."""
from __future__ import annotations

import json
from pathlib import Path

import click

from forecasts import timeutil
from forecasts.commands.common import (ACTOR, FORMATS, Context, emit, pass_ctx, read_json,
                                       read_text)


@click.group(cls=click.Group)
def question() -> None:
    """Create, import, list and review questions."""


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

    text = read_text(path)
    with ctx.database().transaction() as session:
        created = question_csv.import_csv(session, text)
        click.echo(f"imported {len(created)} questions")


@question.command("list")
@click.option("--status", type=click.Choice(["upcoming", "open", "closed", "resolved", "annulled"]))
@click.option("--tag")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def question_list(ctx: Context, status: str | None, tag: str | None, fmt: str) -> None:
    """List questions with their status."""
    from forecasts.services.question_list import list_questions

    db = ctx.database()
    with db.session() as session:
        rows = list_questions(session, now=timeutil.now(), status=status, tag=tag)
        out = [{"slug": r.question.slug, "status": r.status, "kind": r.question.kind,
                "close_at": timeutil.iso(r.question.close_at), "forecasters": r.forecasters,
                "outcome": r.resolution.outcome if r.resolution else None,
                "tags": r.question.tags, "title": r.question.title} for r in rows]
    emit(out, fmt, ["slug", "status", "kind", "close_at", "forecasters", "outcome", "title"])


# --- review of proposals ------------------------------------------------------

@question.command("review")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
def question_review(ctx: Context, fmt: str) -> None:
    """List the proposals waiting for review, oldest first."""
    from forecasts.services import proposals

    with ctx.database().session() as session:
        out = [{"slug": p.question.slug, "proposed_by": p.proposer,
                "proposed_at": timeutil.iso(p.question.created_at), "kind": p.question.kind,
                "close_at": timeutil.iso(p.question.close_at), "title": p.question.title}
               for p in proposals.waiting(session)]
    emit(out, fmt, ["slug", "proposed_by", "proposed_at", "close_at", "title"])


@question.command("approve")
@click.argument("slug")
@pass_ctx
def question_approve(ctx: Context, slug: str) -> None:
    """Publish a proposal."""
    from forecasts.services import proposals

    with ctx.database().transaction() as session:
        question = proposals.get_draft(session, slug)
        proposals.approve(session, question, actor=ACTOR, now=timeutil.now())
    click.echo(f"published {slug}")


@question.command("reject")
@click.argument("slug")
@click.option("--reason", required=True, help="Why, in words the proposer will read.")
@pass_ctx
def question_reject(ctx: Context, slug: str, reason: str) -> None:
    """Reject a proposal with a reason."""
    from forecasts.services import proposals

    with ctx.database().transaction() as session:
        question = proposals.get_draft(session, slug)
        proposals.reject(session, question, reason, actor=ACTOR, now=timeutil.now())
    click.echo(f"rejected {slug}")


# --- bundles ----------------------------------------------------------------

@click.command("import")
@click.argument("path")
@pass_ctx
def import_(ctx: Context, path: str) -> None:
    """Import a bundle: all of it, or nothing."""
    from forecasts.services import bundle

    doc = read_json(path)
    with ctx.database().transaction() as session:
        counts = bundle.import_bundle(session, doc, actor=ACTOR)
    click.echo("imported " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@click.command("export")
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


COMMANDS = [question, import_, export]
