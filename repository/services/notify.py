"""Notifications by e-mail: every message goes into the outbox table, then out by SMTP or into the log.

Callers notify only after their own state change is committed, so a failed mail server can
never undo a publication; the outbox row keeps what was sent (or why it was not) for the
record and for tests.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from repository.db import session
from repository.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)


def send(to_address: str, subject: str, body: str, *, kind: str, publication_id: int | None = None) -> OutboxMessage:
    """Queue one message and hand it to the configured transport at once."""
    message = OutboxMessage(to_address=to_address, subject=subject, body=body, kind=kind,
                            publication_id=publication_id, created_at=utcnow())
    session.add(message)
    session.commit()
    config = current_app.config
    if config.get("SMTP_HOST"):
        try:
            _send_smtp(message)
            message.transport = "smtp"
            message.sent_at = utcnow()
        except (OSError, smtplib.SMTPException) as exc:
            message.error = f"{type(exc).__name__}: {exc}"
            log.warning("mail not sent outbox=%s to=%s kind=%s error=%s", message.id, to_address, kind, message.error)
    else:
        message.transport = "log"
        message.sent_at = utcnow()
        log.info("mail outbox=%s to=%s kind=%s subject=%r\n%s", message.id, to_address, kind, subject, body)
    session.commit()
    return message


def _send_smtp(message: OutboxMessage) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=30) as smtp:
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(email)
