"""`forecasts backup DIR`: a dated, compressed snapshot bundle, keeping the last N."""
from __future__ import annotations

import re
from pathlib import Path

import click

from forecasts.commands.common import Context, pass_ctx

# Names sort in time order: the oldest backups are the first names.
BACKUP_NAME = re.compile(r"^forecasts-\d{8}T\d{6}Z\.json\.gz$")
DEFAULT_KEEP = 14


def backup_name(when) -> str:
    """The file name of a backup taken at `when` (UTC)."""
    return f"forecasts-{when.strftime('%Y%m%dT%H%M%SZ')}.json.gz"


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete the oldest backups in `directory` beyond the newest `keep`; the deleted paths."""
    names = sorted(p for p in directory.iterdir() if BACKUP_NAME.match(p.name))
    old = names[:-keep] if keep else names
    for path in old:
        path.unlink()
    return old


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--keep", type=click.IntRange(min=1), default=DEFAULT_KEEP, show_default=True,
              help="How many backups to keep; older ones are deleted.")
@pass_ctx
def backup(ctx: Context, directory: str, keep: int) -> None:
    """Write a snapshot bundle to DIRECTORY/forecasts-YYYYMMDDTHHMMSSZ.json.gz (restore it
    with `forecasts import`), then delete the oldest beyond --keep."""
    from forecasts import timeutil
    from forecasts.commands.questions import atomic_file
    from forecasts.services.bundle import write_bundle
    from forecasts.snapshot import snapshot

    db = ctx.database()
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / backup_name(timeutil.now())
        if path.exists():
            raise click.ClickException(f"{path}: already exists (one backup a second at most)")
        with atomic_file(path, compress=True) as out, snapshot(db) as session:
            counts = write_bundle(session, out)
            out.write("\n")
        removed = prune(folder, keep)
    except OSError as exc:
        raise click.ClickException(f"{exc.filename or directory}: {exc.strerror}") from None
    click.echo(f"backed up {counts['questions']} questions and {counts['forecasts']} forecasts "
               f"to {path}" + (f"; removed {len(removed)} older" if removed else ""))


COMMANDS = [backup]
