"""Sending the outbox's mail through the SMTP server of SMTP_URL.

`smtp://user:pass@host:port` speaks plain SMTP and upgrades with STARTTLS when the
server offers it; `smtps://...` is TLS from the first byte. With SMTP_URL unset mail is
logged, not sent (and marked sent: a development site has nowhere to deliver it).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit

from forecasts import timeutil
from forecasts.errors import ConfigError
from forecasts.models import MailMessage

log = logging.getLogger("forecasts.mail")
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Server:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None


def parse_url(url: str) -> Server:
    """The server of an SMTP_URL; ConfigError naming SMTP_URL when it cannot be used."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigError(f"SMTP_URL: expected smtp://host:port or smtps://host:port, "
                          f"got scheme {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("SMTP_URL: the port is not a number") from None
    if not parts.hostname:
        raise ConfigError("SMTP_URL: no host")
    return Server(parts.scheme, parts.hostname, port or (465 if parts.scheme == "smtps" else 25),
                  unquote(parts.username) if parts.username else None,
                  unquote(parts.password) if parts.password else None)


def build(message: MailMessage, settings: Mapping[str, Any]) -> EmailMessage:
    """The MIME message of an outbox row: text/plain, with text/html as its alternative."""
    mail = EmailMessage()
    mail["From"] = settings["MAIL_FROM"]
    mail["To"] = message.to_addr
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.created_at)
    # The sender's domain (make_msgid's default asks DNS for this host's name each time).
    domain = parseaddr(settings["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    mail["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain=domain)
    for name, value in message.headers.items():
        mail[name] = value
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    return mail


def connect(settings: Mapping[str, Any]) -> smtplib.SMTP:
    """An open, logged-in connection to SMTP_URL's server (OSError/SMTPException if not)."""
    server = parse_url(settings["SMTP_URL"])
    if server.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_S,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_S)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
    if server.username:
        smtp.login(server.username, server.password or "")
    return smtp


def send(smtp: smtplib.SMTP | None, message: MailMessage, settings: Mapping[str, Any]) -> None:
    """Send one outbox row on `smtp`; with no server (SMTP_URL unset) log it instead."""
    mail = build(message, settings)
    if smtp is None:
        log.info("mail not sent (SMTP_URL is unset): to=%s subject=%r at=%s\n%s",
                 message.to_addr, message.subject, timeutil.iso(timeutil.now()),
                 message.body_text)
        return
    smtp.send_message(mail)
