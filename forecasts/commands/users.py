"""Accounts: `user create/list/set-role/set-password/set-email/deactivate/reactivate`."""
from __future__ import annotations

import sys

import click

from forecasts import timeutil
from forecasts.commands.common import FORMATS_CSV, Context, emit, pass_ctx

ROLE = click.Choice(["admin", "forecaster"])
COLUMNS = ["username", "role", "active", "created", "first_forecast", "forecasts"]


def _stdin_password() -> str:
    """The first line of standard input, without its line ending."""
    return sys.stdin.readline().rstrip("\r\n")


def _hasher(ctx: Context):
    from forecasts.passwords import Passwords

    return Passwords(fast=ctx.settings["PASSWORD_HASH_FAST"])


@click.group(cls=click.Group)
def user() -> None:
    """Manage users."""


@user.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Give the admin role.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@click.option("--email", "address", metavar="ADDR",
              help="The user's email address (mailed a verification link unless --verified).")
@click.option("--verified", is_flag=True, help="Set --email as verified, without a mail.")
@pass_ctx
def user_create(ctx: Context, name: str, admin: bool, password_stdin: bool,
                address: str | None, verified: bool) -> None:
    """Create a user (without --password-stdin the account cannot log in)."""
    from forecasts.services import users

    if verified and address is None:
        raise click.UsageError("--verified needs --email")
    password = _stdin_password() if password_stdin else None
    with ctx.database().transaction() as session:
        created = users.create_user(session, name, password=password,
                                    role="admin" if admin else "forecaster",
                                    passwords=_hasher(ctx))
        said = f"created {created.role} {created.username}"
        if address is not None:
            said += "; " + _assign_email(ctx, session, created, address, verified)
    click.echo(said)


def _assign_email(ctx: Context, session, account, address: str, verified: bool) -> str:
    """Set or start verifying the address; what to tell the admin about it."""
    from forecasts.services import email

    settings = ctx.settings if verified else ctx.app_settings()
    address = email.assign(session, settings, account, address, verified=verified)
    if verified:
        return f"address {address} set, verified"
    return (f"verification link to {address} queued (the scheduler's mail job sends it; "
            "the address counts once the link is followed)")


@user.command("list")
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@pass_ctx
def user_list(ctx: Context, fmt: str) -> None:
    """Every account: role, whether it is active, when created, first forecast, forecasts."""
    from forecasts.services import users

    with ctx.database().session() as session:
        rows = [{"username": m.user.username, "role": m.user.role, "active": m.user.active,
                 "created": timeutil.iso(m.user.created_at),
                 "first_forecast": timeutil.iso(m.first_forecast) if m.first_forecast else None,
                 "forecasts": m.forecasts}
                for m in users.directory(session)]
    if fmt != "json":
        shown = {"table": ("yes", "no"), "csv": ("true", "false")}[fmt]
        rows = [{**r, "active": shown[0] if r["active"] else shown[1]} for r in rows]
    emit(rows, fmt, COLUMNS)


@user.command("set-role")
@click.argument("name")
@click.argument("role", type=ROLE)
@pass_ctx
def user_set_role(ctx: Context, name: str, role: str) -> None:
    """Make a user admin or forecaster (the last active admin cannot be demoted)."""
    from forecasts.services import users

    with ctx.database().transaction() as session:
        account = users.get_user(session, name)
        changed = users.set_role(session, account, role)
        click.echo(f"{account.username} is {'now' if changed else 'already'} {role}")


@user.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the new password from the first line of standard input.")
@pass_ctx
def user_set_password(ctx: Context, name: str, password_stdin: bool) -> None:
    """Set a user's password and end all of their sessions."""
    from forecasts.services import users

    password = _stdin_password()
    with ctx.database().transaction() as session:
        account = users.get_user(session, name)
        revoked = users.set_password(session, account, password, _hasher(ctx))
        click.echo(f"password of {account.username} set; their sessions are ended and "
                   f"{revoked} API token{'' if revoked == 1 else 's'} revoked")


@user.command("set-email")
@click.argument("name")
@click.argument("address")
@click.option("--verified", is_flag=True, help="Set the address as verified, without a mail.")
@pass_ctx
def user_set_email(ctx: Context, name: str, address: str, verified: bool) -> None:
    """Give a user an email address: verified at once, or by the link mailed to it."""
    from forecasts.services import users

    with ctx.database().transaction() as session:
        account = users.get_user(session, name)
        said = f"{account.username}: " + _assign_email(ctx, session, account, address, verified)
    click.echo(said)


@user.command("deactivate")
@click.argument("name")
@pass_ctx
def user_deactivate(ctx: Context, name: str) -> None:
    """Stop a user logging in or using API tokens; their forecasts stay scored."""
    from forecasts.services import users

    with ctx.database().transaction() as session:
        account = users.get_user(session, name)
        changed = users.deactivate(session, account)
        click.echo(f"{account.username} is {'now' if changed else 'already'} deactivated")


@user.command("reactivate")
@click.argument("name")
@pass_ctx
def user_reactivate(ctx: Context, name: str) -> None:
    """Let a deactivated user log in again."""
    from forecasts.services import users

    with ctx.database().transaction() as session:
        account = users.get_user(session, name)
        changed = users.reactivate(session, account)
        click.echo(f"{account.username} is {'now' if changed else 'already'} active")


COMMANDS = [user]
