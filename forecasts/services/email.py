"""Email on accounts: checking an address, proving it by a signed link, password reset.

An address counts only once proven: the verification link carries the user and the
address (signed, valid 7 days), and following it sets `User.email`. Until then the old
address (or none) stays in force. The flows that mail never tell the requester whether
an address belongs to an account: a taken address gets a notice instead of a link, and
the pages answer the same either way.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from forecasts import signing, timeutil
from forecasts.errors import Conflict, InvalidInput
from forecasts.models import User
from forecasts.passwords import Passwords
from forecasts.services import mail_render, outbox
from forecasts.services.users import check_password, set_password

VERIFY_MAX_AGE_S = 7 * 24 * 3600
RESET_MAX_AGE_S = 3600
MAX_ADDRESS = 254
# Conservative on purpose: no quotes, angle brackets, commas, spaces or control
# characters, so an address is inert in HTML and in a mail header.
LOCAL = re.compile(r"[A-Za-z0-9!#$%&*+/=?^_{|}~-]+(?:\.[A-Za-z0-9!#$%&*+/=?^_{|}~-]+)*")
LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
EXAMPLE = "like name@example.org"


def check_address(value: object, where: str = "email") -> str:
    """The address trimmed, with its domain lowercased, if it is plausible; else
    InvalidInput naming `where`."""
    if not isinstance(value, str):
        raise InvalidInput("must be text", where=where)
    address = value.strip()
    if not address:
        raise InvalidInput("is required", where=where)
    if len(address) > MAX_ADDRESS:
        raise InvalidInput(f"must be at most {MAX_ADDRESS} characters", where=where)
    if address.count("@") != 1:
        raise InvalidInput(f"is not an email address ({EXAMPLE}): it needs exactly one '@'",
                           where=where)
    local, domain = address.split("@")
    if len(local) > 64 or not LOCAL.fullmatch(local):
        raise InvalidInput(f"is not an email address ({EXAMPLE}): the part before '@' may "
                           "hold letters, digits, dots and !#$%&*+/=?^_{|}~- only", where=where)
    labels = domain.split(".")
    if len(labels) < 2 or not all(LABEL.fullmatch(label) for label in labels):
        raise InvalidInput(f"is not an email address ({EXAMPLE}): the part after '@' must be "
                           "a domain of letters, digits and hyphens with a dot", where=where)
    return f"{local}@{domain.lower()}"


def owner_of(session: Session, address: str) -> User | None:
    """The account whose address this is (case-insensitive), or None."""
    return session.scalars(select(User).where(func.lower(User.email) == address.lower())).first()


def _mail(session: Session, settings: Mapping[str, Any], *, kind: str, template: str,
          to: str, subject: str, user: User, **context: Any) -> None:
    text, html = mail_render.render(template, settings, user=user.username, address=to,
                                    **context)
    outbox.enqueue(session, kind=kind, to=to, subject=subject, text=text, html=html,
                   user_id=user.id)


def _notice(session: Session, settings: Mapping[str, Any], owner: User) -> None:
    # Someone typed an address that is another account's: tell its owner, not them.
    if owner.active:
        _mail(session, settings, kind="notice", template="address_in_use", to=owner.email,
              subject="Someone tried to use your address on Forecasts", user=owner,
              forgot_url=outbox.absolute_url(settings, "/account/forgot"))


# --- verification --------------------------------------------------------------

def request_verification(session: Session, settings: Mapping[str, Any], user: User,
                         address: str) -> None:
    """Mail `address` a link that makes it the user's, or, if it is another account's
    already, mail that account a notice instead (the caller cannot tell which)."""
    address = check_address(address)
    owner = owner_of(session, address)
    if owner is not None and owner.id != user.id:
        _notice(session, settings, owner)
        return
    token = signing.sign(settings, "verify-email", {"u": user.id, "e": address})
    _mail(session, settings, kind="verify", template="verify", to=address,
          subject="Confirm your email address for Forecasts", user=user,
          link=outbox.absolute_url(settings, f"/account/verify/{token}"),
          days=VERIFY_MAX_AGE_S // 86400)


def change_address(session: Session, settings: Mapping[str, Any], user: User, current: str,
                   address: str, *, passwords: Passwords) -> str:
    """Check the current password, then `request_verification` for the new address (the
    old one stays until the new one is verified); the address as checked."""
    if not passwords.verify(user.password_hash, current):
        raise InvalidInput("is not your current password", where="current")
    address = check_address(address)
    request_verification(session, settings, user, address)
    return address


@dataclass(frozen=True)
class Pending:
    """What a verification link proposes: this user's address becomes `address`."""

    user: User
    address: str


def pending(session: Session, settings: Mapping[str, Any], token: str) -> Pending:
    """The verification a link stands for; InvalidInput if it is altered, expired or for
    an account that no longer exists or is deactivated."""
    payload = signing.unsign(settings, "verify-email", token, max_age_s=VERIFY_MAX_AGE_S)
    user = session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    address = payload.get("e") if isinstance(payload, dict) else None
    if user is None or not user.active or not isinstance(address, str):
        raise InvalidInput("this link is not valid (altered, or made for something else)",
                           where="token")
    return Pending(user, address)


def set_address(session: Session, user: User, address: str, *,
                verified: bool = True) -> None:
    """Make `address` the user's (verified now unless told otherwise); Conflict naming it
    if another account has it, and then nothing changes."""
    address = check_address(address)
    owner = owner_of(session, address)
    if owner is not None and owner.id != user.id:
        raise Conflict(f"the address {address} is another account's", where="email")
    try:
        # A savepoint: two accounts verifying one address at once meet the unique
        # index, and the loser's transaction must stay usable.
        with session.begin_nested():
            user.email = address
            user.email_verified_at = timeutil.now() if verified else None
    except IntegrityError:
        session.expire(user, ["email", "email_verified_at"])
        raise Conflict(f"the address {address} is another account's", where="email") from None


def assign(session: Session, settings: Mapping[str, Any], user: User, address: str, *,
           verified: bool) -> str:
    """An administrator's setting of an address: `verified` sets it at once, otherwise a
    verification link is mailed to it; Conflict naming it if it is another account's.
    The address as checked."""
    address = check_address(address)
    owner = owner_of(session, address)
    if owner is not None and owner.id != user.id:
        raise Conflict(f"the address {address} is another account's", where="email")
    if verified:
        set_address(session, user, address)
    else:
        request_verification(session, settings, user, address)
    return address


def verify(session: Session, settings: Mapping[str, Any], token: str) -> User:
    """Follow a verification link: the address becomes the user's, verified now."""
    proposal = pending(session, settings, token)
    try:
        set_address(session, proposal.user, proposal.address)
    except Conflict:
        raise Conflict("this address is now another account's, so it was not added; "
                       "nothing changed", where="token") from None
    return proposal.user


# --- password reset --------------------------------------------------------------

def fingerprint(user: User) -> str:
    """Changes with the password and with every end of sessions, so a reset link works
    once and not after a password change or a logout everywhere."""
    material = f"{user.password_hash or ''}:{user.session_epoch}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def request_reset(session: Session, settings: Mapping[str, Any], address: str) -> None:
    """Mail a reset link if an active account has this verified address; otherwise do
    nothing. The caller answers the same in both cases."""
    address = check_address(address)
    user = owner_of(session, address)
    if user is None or not user.active or not user.email_verified:
        return
    token = signing.sign(settings, "reset-password", {"u": user.id, "f": fingerprint(user)})
    _mail(session, settings, kind="reset", template="reset", to=user.email,
          subject="Reset your Forecasts password", user=user,
          link=outbox.absolute_url(settings, f"/account/reset/{token}"),
          minutes=RESET_MAX_AGE_S // 60)


def reset_target(session: Session, settings: Mapping[str, Any], token: str) -> User:
    """The account a reset link is for; InvalidInput if altered, older than an hour, used
    already (the password changed since) or the account is deactivated."""
    payload = signing.unsign(settings, "reset-password", token, max_age_s=RESET_MAX_AGE_S)
    user = session.get(User, payload.get("u")) if isinstance(payload, dict) else None
    if user is None or not user.active or payload.get("f") != fingerprint(user):
        raise InvalidInput("this link was used already or is not valid; ask for a new one",
                           where="token")
    return user


def reset_password(session: Session, settings: Mapping[str, Any], token: str, new: str,
                   confirm: str, *, passwords: Passwords) -> tuple[User, int]:
    """Set a new password through a reset link: every session ends, API tokens are
    revoked (the number), and the address counts as verified again."""
    user = reset_target(session, settings, token)
    check_password(new, username=user.username, where="new")
    if new != confirm:
        raise InvalidInput("the two new passwords differ", where="confirm")
    revoked = set_password(session, user, new, passwords)
    if user.email is not None:
        user.email_verified_at = timeutil.now()
    session.flush()
    return user, revoked
