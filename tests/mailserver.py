"""A real SMTP server for tests (aiosmtpd), on 127.0.0.1 and a free port.

    def test_mail(smtp_server, env):
        env = mail_env(env, smtp_server)      # SMTP_URL points at the server
        ...
        smtp_server.wait_for(1)
        assert smtp_server.messages[0]["Subject"] == "..."

The server runs in a thread of the test process, so `forecasts worker` subprocesses
given `mail_env(...)` deliver to it too. `stop()` closes the port (connections are
refused, as with a server that is down) and `start()` opens it again on the same port.
Addresses in `refuse` are answered 550 at RCPT, those in `defer` 451 (a temporary
refusal); a message to an address in `drop` is read and then the connection is closed
without an answer (a server gone mid-send; the message is not kept).
"""
from __future__ import annotations

import threading
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import HOST, free_port


class Received(EmailMessage):
    """A message as the server received it, with its SMTP envelope."""

    envelope_from: str = ""
    envelope_to: list[str] = []


_PARSER = BytesParser(_class=Received, policy=policy.default)


class _Handler:
    def __init__(self, server: MailServer):
        self.server = server

    async def handle_RCPT(self, _server: Any, _session: Any, envelope: Any, address: str,
                          _options: list[str]) -> str:
        if address.lower() in self.server.refuse:
            return "550 5.1.1 mailbox unavailable"
        if address.lower() in self.server.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, _session: Any, envelope: Any) -> str:
        if any(address.lower() in self.server.drop for address in envelope.rcpt_tos):
            server.transport.close()
            return "421 closing"  # never reaches the client: the transport is closed
        message = _PARSER.parsebytes(envelope.original_content or envelope.content)
        message.envelope_from = envelope.mail_from
        message.envelope_to = list(envelope.rcpt_tos)
        self.server._received(message)
        return "250 Message accepted for delivery"


class MailServer:
    """An aiosmtpd server that keeps what it receives in `messages` (Received objects).
    With `users` ({name: password}) it offers AUTH (over plain SMTP: tests only)."""

    def __init__(self, *, port: int | None = None, users: dict[str, str] | None = None):
        self.port = port or free_port()
        self.users = users
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.drop: set[str] = set()
        self.messages: list[Received] = []
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._controller is not None

    def _authenticate(self, _server: Any, _session: Any, _envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and self.users is not None
              and self.users.get(data.login.decode()) == data.password.decode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> MailServer:
        """Listen on `port` (the same one after a stop); returns self."""
        if self._controller is None:
            kwargs: dict[str, Any] = {}
            if self.users is not None:
                kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
            controller = Controller(_Handler(self), hostname=HOST, port=self.port,
                                    ready_timeout=10, **kwargs)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Close the port: new connections are refused until start()."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _received(self, message: Received) -> None:
        with self._cond:
            self.messages.append(message)
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least `n` messages arrived; AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} of {n} messages arrived "
                                         f"within {timeout} s")
                self._cond.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        """Forget the messages received so far."""
        with self._cond:
            self.messages.clear()

    def __enter__(self) -> MailServer:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()


def mail_env(env: dict[str, str], server: MailServer, **extra: str) -> dict[str, str]:
    """`env` with SMTP_URL pointing at `server` (for create_app, runner or a subprocess)."""
    return {**env, "SMTP_URL": server.url, **extra}


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """A running MailServer, stopped after the test."""
    server = MailServer().start()
    try:
        yield server
    finally:
        server.stop()
