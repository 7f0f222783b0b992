"""Reading and recomputing scores: `rescore`, `scores`, `leaderboard` and `calibration`."""
from __future__ import annotations

import json
import os

import click

from forecasts.commands.common import FORMATS, FORMATS_CSV, Context, emit, pass_ctx, when
from forecasts.leaderboard_metrics import DEFAULT_METRIC, METRICS


@click.command()
@click.argument("slug", required=False)
@pass_ctx
def rescore(ctx: Context, slug: str | None) -> None:
    """Recompute stored scores for one question, or for all (the crowd's with the
    configured CROWD_AGGREGATOR)."""
    from forecasts.services import aggregation, question_stats, questions, scores

    agg = ctx.aggregator()
    with ctx.database().transaction() as session:
        if slug is None:
            n = aggregation.recompute(session, agg)
        else:
            ids = [questions.get_question(session, slug).id]
            n = scores.rescore_questions(session, ids, aggregator=agg)
            # The question list's and pages' figures are recomputed with the scores.
            question_stats.refresh(session, ids, aggregator=agg)
    click.echo(f"rescored {slug or 'all questions'}: {n} score rows")


@click.command()
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
    numeric = "value" in doc  # numeric and date questions: CRPS, no Brier or RPS
    emit(rows, fmt, ["user", "crps", "log", "peer", "coverage"] if numeric
         else ["user", "brier", "log", "rps", "peer", "coverage"])


@click.command()
@click.option("--metric", type=click.Choice(METRICS), default=DEFAULT_METRIC,
              show_default=True,
              help="Ranking: global peer (default), mean Brier or log (lower is better), "
                   "mean or total peer, mean CRPS over numeric and date questions (lower "
                   "is better).")
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
            seed=ctx.settings["LEADERBOARD_SEED"],
            peer_prior=ctx.settings["LEADERBOARD_PEER_PRIOR"])
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        click.echo(board.leaderboard_csv(rows), nl=False)
    else:
        emit(board.flat_rows(rows), fmt, board.COLUMNS)


@click.command()
@click.argument("username")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--plot", "plot_path", help="Also draw a reliability diagram (.svg or .png).")
@pass_ctx
def calibration(ctx: Context, username: str, fmt: str, plot_path: str | None) -> None:
    """Calibration of a user (or `crowd`) over resolved binary questions, and the PIT
    histogram and central-interval coverage over numeric and date ones."""
    from forecasts.services import calibration as cal

    if plot_path and not plot_path.lower().endswith((".svg", ".png")):
        raise click.ClickException(f"{plot_path}: --plot takes a .svg or .png file name")
    with ctx.database().session() as session:
        doc = cal.calibration(session, username, aggregator=ctx.aggregator())
    if plot_path:
        from forecasts import plots

        try:
            plots.reliability_diagram(doc, plot_path)
        except OSError as exc:
            raise click.ClickException(f"{plot_path}: {exc.strerror}") from None
        # With --format json on stderr, so that stdout stays one JSON document.
        click.echo(f"wrote {os.path.abspath(plot_path)}", err=fmt == "json")
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2))
        return
    numeric = doc.get("numeric")
    click.echo(f"{doc['user']}: {doc['questions']} questions")
    if doc["questions"] or not numeric:  # only numeric and date ones: no empty binary bins
        emit([{"bin": f"{b['low_edge']:.1f}-{b['high_edge']:.1f}", **b} for b in doc["bins"]],
             fmt, ["bin", "count", "weight", "mean_forecast", "observed", "low", "high"])
    if doc["murphy"]:
        m = doc["murphy"]
        click.echo(f"Brier (one-sided) {m['brier']:.4f} = reliability {m['reliability']:.4f}"
                   f" - resolution {m['resolution']:.4f} + uncertainty {m['uncertainty']:.4f}")
    if numeric:
        click.echo(f"numeric and date: {numeric['questions']} questions; central 50% interval "
                   f"covers {numeric['coverage']['50']:.3f}, 90% covers "
                   f"{numeric['coverage']['90']:.3f}")
        emit([{"pit": f"{b['low_edge']:.1f}-{b['high_edge']:.1f}", **b} for b in numeric["pit"]],
             fmt, ["pit", "weight", "density"])


COMMANDS = [rescore, scores, leaderboard, calibration]
