"""Getting questions in and out: `question create/import/list` and bundle `import`/`export`."""
from __future__ import annotations

import gzip
import io
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

import click

from forecasts import timeutil
from forecasts.commands.common import (ACTOR, FORMATS, Context, emit, pass_ctx, read_json,
                                       read_text)


@click.group(cls=click.Group)
def question() -> None:
    """Create, import, list and review questions."""


def hide_crowd_option(command):
    """--hide-crowd/--show-crowd: None when neither is given (the definition's value, or
    the default of new questions: hidden)."""
    return click.option("--hide-crowd/--show-crowd", "hide_crowd", default=None,
                        help="Hide the crowd from who has not forecast, until the question "
                             "closes (the default), or show it to everyone.")(command)


@question.command("create")
@click.option("--file", "path", required=True, help="A JSON file with one question.")
@hide_crowd_option
@pass_ctx
def question_create(ctx: Context, path: str, hide_crowd: bool | None) -> None:
    """Create a question from a JSON definition (SPEC section 3)."""
    from forecasts.services import questions

    data = read_json(path)
    if hide_crowd is not None and isinstance(data, dict):
        data["hide_crowd_until_forecast"] = hide_crowd
    with ctx.database().transaction() as session:
        created = questions.create_question(session, data)
        click.echo(f"created question {created.slug}")


@question.command("import")
@click.argument("path")
@hide_crowd_option
@pass_ctx
def question_import(ctx: Context, path: str, hide_crowd: bool | None) -> None:
    """Import questions from CSV (atomic; errors name the row)."""
    from forecasts.services import question_csv

    text = read_text(path)
    with ctx.database().transaction() as session:
        created = question_csv.import_csv(session, text, hide_crowd=hide_crowd)
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
    """Import a bundle (.json, or .json.gz as `backup` writes): all of it, or nothing."""
    from forecasts.services import bundle

    doc = read_bundle(path)
    with ctx.database().transaction() as session:
        counts = bundle.import_bundle(session, doc, actor=ACTOR, aggregator=ctx.aggregator())
    click.echo("imported " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def read_bundle(path: str) -> object:
    """The JSON document in a bundle file, gzip-compressed when its name ends in .gz."""
    if not path.endswith(".gz"):
        return read_json(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{path}: not valid JSON (line {exc.lineno}, "
                                   f"column {exc.colno}: {exc.msg})") from None
    except OSError as exc:  # also a file that is not gzip
        raise click.ClickException(f"{path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, EOFError):
        raise click.ClickException(f"{path}: not a complete gzip-compressed UTF-8 file") from None


@click.command("export")
@click.argument("path")
@pass_ctx
def export(ctx: Context, path: str) -> None:
    """Export everything but passwords and tokens as a bundle ('-' for stdout), read in
    one snapshot and written as it is read."""
    from forecasts.services.bundle import write_bundle
    from forecasts.snapshot import snapshot

    db = ctx.database()
    if path == "-":
        out = sys.stdout
        with snapshot(db) as session:
            write_bundle(session, out)
        out.write("\n")
        return
    try:
        with atomic_file(Path(path)) as out, snapshot(db) as session:
            counts = write_bundle(session, out)
            out.write("\n")
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror}") from None
    click.echo(f"exported {counts['questions']} questions and {counts['forecasts']} "
               f"forecasts to {path}")


@contextmanager
def atomic_file(path: Path, *, compress: bool = False) -> Iterator[TextIO]:
    """A text file written under a temporary name and renamed into place when complete,
    so that `path` never holds half a bundle; removed if anything fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        raw = open(tmp, "wb")
        with raw:
            stream = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) \
                if compress else raw
            with io.TextIOWrapper(stream, encoding="utf-8", write_through=False) as out:
                yield out
                out.flush()
                if compress:
                    stream.close()
                raw.flush()
                os.fsync(raw.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


COMMANDS = [question, import_, export]
