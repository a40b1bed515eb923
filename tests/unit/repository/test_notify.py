"""Notifications: the outbox row, delivery by a real SMTP conversation on 127.0.0.1, and a failing server."""

from __future__ import annotations

import email
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from email.policy import default

import pytest
from flask import Flask

from repository.services import notify


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough of RFC 5321 for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    received: list[bytes] = []

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                chunks = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    chunks.append(chunk)
                self.received.append(b"".join(chunks))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[bytes]]]:
    _SMTPHandler.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _SMTPHandler.received
    finally:
        server.shutdown()
        server.server_close()


def test_without_smtp_the_message_goes_to_the_log(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=notify.__name__)
    message = notify.send("åsa@example.org", "Ärende", "Hej Åsa", kind="test", publication_id=7)
    assert (message.transport, message.error, message.publication_id) == ("log", None, 7)
    assert "Hej Åsa" in caplog.text and "to=åsa@example.org" in caplog.text


def test_with_smtp_the_message_is_delivered(app: Flask, smtp_server: tuple[int, list[bytes]]) -> None:
    port, received = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, MAIL_FROM="hylla@example.org")
    try:
        message = notify.send("editor@example.org", "Återlämnad", "Rätta årtalet, tack.", kind="returned")
    finally:
        app.config.update(SMTP_HOST="")
    assert message.transport == "smtp" and message.sent_at is not None and message.error is None
    [raw] = received
    parsed = email.message_from_bytes(raw, policy=default)
    assert parsed["To"] == "editor@example.org" and parsed["Subject"] == "Återlämnad"
    assert parsed.get_content().strip() == "Rätta årtalet, tack."


def test_an_unreachable_server_is_recorded_not_raised(app: Flask) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
    try:
        message = notify.send("x@example.org", "s", "b", kind="test")
    finally:
        app.config.update(SMTP_HOST="")
    assert message.sent_at is None and message.transport is None and "ConnectionRefusedError" in message.error
