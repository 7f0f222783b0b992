"""The mail outbox: `mail status` and `mail requeue`."""
from __future__ import annotations

import click

from forecasts import timeutil
from forecasts.commands.common import Context, pass_ctx


@click.group(cls=click.Group)
def mail() -> None:
    """Inspect and repair the mail outbox."""


@mail.command("status")
@pass_ctx
def mail_status(ctx: Context) -> None:
    """Messages per state, and the ones left `sending` (claimed by a worker that stopped
    before recording the server's answer: they are never sent again by themselves)."""
    from forecasts.services import delivery

    with ctx.database().session() as session:
        counts = delivery.counts(session)
        stuck = delivery.in_state(session, "sending")
        failed = delivery.in_state(session, "failed", limit=20)
    click.echo("  ".join(f"{state} {n}" for state, n in counts.items()))
    for message in stuck:
        click.echo(f"sending #{message.id} {message.kind} to {message.to_addr}, claimed by "
                   f"{message.claimed_by}, attempt {message.attempts}, due since "
                   f"{timeutil.iso(message.next_attempt_at)}")
    for message in failed:
        click.echo(f"failed #{message.id} {message.kind} to {message.to_addr}: "
                   f"{message.last_error}")


@mail.command("requeue")
@click.argument("ids", nargs=-1, type=int, required=True)
@pass_ctx
def mail_requeue(ctx: Context, ids: tuple[int, ...]) -> None:
    """Send these `sending` or `failed` messages again on the next pass (a `sending`
    one may have arrived already: check the server's log first)."""
    from forecasts.services import delivery

    with ctx.database().transaction() as session:
        messages = delivery.requeue(session, ids, now=timeutil.now())
    for message in messages:
        click.echo(f"requeued #{message.id} to {message.to_addr}")


COMMANDS = [mail]
