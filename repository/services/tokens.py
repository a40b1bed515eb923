"""API tokens: issued to a user for scripts, shown once, stored only as a hash, revocable."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import func, select

from repository.db import session
from repository.errors import Invalid, NotFound
from repository.models import ApiToken, User, utcnow
from repository.models.tokens import token_digest

log = logging.getLogger(__name__)

PREFIX = "hylla_"  # lets secret scanners and people recognise a leaked token
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_used_at is a hint, not worth a write per request


def issue(email: str, name: str | None = None) -> tuple[ApiToken, str]:
    """A new token for the account with ``email``; the plain token is returned once and never stored."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with e-mail {email}")
    if not user.active:
        raise Invalid({"email": [f"the account {email} is not active"]})
    plain = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=token_digest(plain), prefix=plain[:12], name=name, created_at=utcnow())
    session.add(row)
    session.commit()
    log.info("issued api token=%s user=%s", row.id, user.id)
    return row, plain


def user_for(plain: str) -> User | None:
    """The active user a presented token belongs to, or None for an unknown or revoked token."""
    if not plain.startswith(PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(plain)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
        session.commit()
    return row.user


def revoke(token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no token {token_id}")
    row.revoked_at = utcnow()
    session.commit()
