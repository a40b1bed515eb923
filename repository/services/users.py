"""Accounts: creating users and checking passwords."""

from __future__ import annotations

import functools
import logging

from sqlalchemy import func, select

from repository.auth import hash_password, verify_password
from repository.db import session
from repository.errors import Conflict, Invalid
from repository.models import ROLES, Institution, User, utcnow

log = logging.getLogger(__name__)


def create_user(email: str, password: str, role: str, *, institution_code: str | None = None,
                display_name: str | None = None) -> User:
    """A new account; an administrator's CLI step, so it checks input rather than permissions."""
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        errors["email"] = [f"{email!r} is not an e-mail address"]
    if role not in ROLES:
        errors["role"] = [f"unknown role {role!r}; choose one of {', '.join(ROLES)}"]
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        errors["password"] = [str(exc)]
    institution = None
    if institution_code:
        institution = session.scalar(select(Institution).where(Institution.code == institution_code))
        if institution is None:
            errors["institution"] = [f"no institution with code {institution_code!r}"]
    else:
        institution = session.scalar(select(Institution).order_by(Institution.id).limit(1))
    if errors:
        raise Invalid(errors)
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Conflict(f"a user with e-mail {email} exists already")
    user = User(email=email, password_hash=password_hash, role=role, display_name=display_name,
                institution_id=institution.id if institution else None, active=True, created_at=utcnow())
    session.add(user)
    session.commit()
    log.info("created user=%s role=%s", user.id, role)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None (the same None whatever was wrong)."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        verify_password(_dummy_hash(), password)  # spend the same time: no account enumeration by timing
        return None
    if not user.active or not verify_password(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    session.commit()
    return user


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password-at-all")
