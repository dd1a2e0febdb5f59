"""A real SMTP server for the tests (aiosmtpd on a free 127.0.0.1 port), and the sender.

tests/conftest.py loads this module as a plugin, so every test module can ask for:

``smtp_server`` (fixture, per test)
    A running server that the test's ``app`` already points at (MAIL_BACKEND "smtp",
    MAIL_SERVER, MAIL_PORT; the settings are put back after the test). Its attributes:

    - ``messages``: every message received, parsed (``email.message.EmailMessage``, read
      with ``email.policy.default``: ``m["To"]``, ``m.get_body(("plain",)).get_content()``);
    - ``envelopes``: ``(mail_from, rcpt_tos)`` of each, in the same order;
    - ``port``; ``stop()`` and ``start()`` (the same port again): the server down, then back;
    - ``refuse(address, reply="550 5.1.1 No such user")``: answer RCPT for ``address``
      with ``reply`` (a 4xx reply defers instead);
    - ``configure(app)``: point another app at it (restored when the test ends);
    - ``clear()``: forget what was received.

``deliver`` (fixture)
    ``deliver()`` (or ``deliver(app)``, or ``deliver(now=later)``) runs the sender once
    (services.mail_sender.deliver_due, which commits) and returns the messages the server
    received during that run. ``now`` moves the sender's clock forward to a retry time,
    instead of waiting for it.

Example::

    def test_awarded_mail(app, make, deliver):
        ...  # an action that queues a message, committed
        [message] = deliver()
        assert message["To"] == applicant.email
"""

from __future__ import annotations

import email
import logging
import socket
import threading
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
_SETTINGS = ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL",
             "MAIL_USERNAME", "MAIL_PASSWORD")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class _Handler:
    def __init__(self, server: SMTPServer):
        self.server = server

    async def handle_RCPT(self, _server, _session, envelope, address, _options):
        reply = self.server.refused.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):
        # Lines end in CRLF on the wire; parsed with LF, the parts read as they were written.
        raw = (envelope.original_content or envelope.content).replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(raw, policy=policy.default)
        with self.server.lock:
            self.server.messages.append(parsed)
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SMTPServer:
    """One aiosmtpd server on 127.0.0.1; see the module's docstring."""

    def __init__(self):
        self.port = _free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refused: dict[str, str] = {}
        self.lock = threading.Lock()
        self._controller: Controller | None = None
        self._saved: list[tuple[object, dict]] = []

    def start(self) -> None:
        # aiosmtpd logs every SMTP command at INFO: in a CLI test that chatter would land
        # in the command's output (the app's log handler writes to the current stderr).
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        if self._controller is None:
            self._controller = Controller(_Handler(self), hostname=HOST, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()

    def refuse(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        self.refused[address.lower()] = reply

    def configure(self, app) -> None:
        """Point ``app`` at this server until ``restore()`` (the fixture's end)."""
        self._saved.append((app, {k: app.config.get(k) for k in _SETTINGS}))
        app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER=HOST, MAIL_PORT=self.port,
                          MAIL_USE_TLS=False, MAIL_USE_SSL=False, MAIL_USERNAME=None,
                          MAIL_PASSWORD=None)

    def restore(self) -> None:
        while self._saved:
            app, settings = self._saved.pop()
            app.config.update(settings)


@pytest.fixture
def smtp_server(app):
    server = SMTPServer()
    server.start()
    server.configure(app)
    try:
        yield server
    finally:
        server.restore()
        server.stop()


@pytest.fixture
def deliver(smtp_server):
    """Run the sender once; the messages the server received during the run."""
    from vouchers.services.mail_sender import deliver_due

    def run(_app=None, *, now=None) -> list[EmailMessage]:
        # ``deliver(app)`` reads as well as ``deliver()``: the sender runs in the test's
        # app context either way.
        before = len(smtp_server.messages)
        deliver_due(now=now)
        return smtp_server.messages[before:]

    return run
