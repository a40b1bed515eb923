"""Password reset by e-mail: a one-time link valid for an hour, asked for without revealing whether an account exists."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import func, select, update

from repository.auth import hash_password
from repository.db import session
from repository.errors import Invalid
from repository.models import PasswordResetToken, User, utcnow
from repository.models.tokens import token_digest
from repository.services import notify, throttle

log = logging.getLogger(__name__)

VALID_FOR = dt.timedelta(hours=1)
MAX_PER_HOUR = 3  # links per account per hour: a stranger cannot flood someone's mailbox


def request_reset(email: str, *, base_url: str, repository_name: str) -> None:
    """Send a reset link if an active account has this address; the caller says the same thing either way."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.active:
        log.info("password reset asked for an unknown or inactive account")
        return
    now = utcnow()
    recent = session.scalar(select(func.count()).select_from(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.created_at > now - dt.timedelta(hours=1))) or 0
    if recent >= MAX_PER_HOUR:
        log.info("password reset refused user=%s: %d links in the last hour", user.id, recent)
        return
    token = secrets.token_urlsafe(32)
    session.add(PasswordResetToken(user_id=user.id, token_hash=token_digest(token), created_at=now,
                                   expires_at=now + VALID_FOR))
    session.commit()
    notify.send(user.email, f"{repository_name}: choose a new password",
                f"Someone (probably you) asked to reset the password of your {repository_name} account.\n\n"
                f"Choose a new password here within an hour:\n{base_url}/account/reset/{token}\n\n"
                "If you did not ask for this, ignore this message: your password stays as it is.\n",
                kind="password-reset")


def valid_token(token: str) -> PasswordResetToken | None:
    row = session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row


def reset_password(token: str, password: str, confirmation: str) -> User:
    """Set a new password with a valid link; every other open link of the account stops working."""
    row = valid_token(token)
    if row is None:
        raise Invalid({"token": ["this link has expired or has been used; ask for a new one"]})
    if password != confirmation:
        raise Invalid({"confirmation": ["the two passwords differ"]})
    try:
        new_hash = hash_password(password)
    except ValueError as exc:
        raise Invalid({"password": [str(exc)]}) from None
    now = utcnow()
    user = row.user
    user.password_hash = new_hash
    session.execute(update(PasswordResetToken).where(PasswordResetToken.user_id == user.id,
                                                     PasswordResetToken.used_at.is_(None)).values(used_at=now))
    session.commit()
    throttle.clear(user.email)
    log.info("password reset user=%s", user.id)
    return user
