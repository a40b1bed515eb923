"""Passwords and login sessions: Argon2id hashes and Flask-Login's user loader."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask
from flask_login import LoginManager, current_user

from repository.db import session
from repository.models import User

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters
login_manager = LoginManager()
login_manager.login_view = "public.login"
login_manager.session_protection = "strong"

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    return session.get(User, int(user_id))


def acting_user() -> User | None:
    """The logged-in user to pass to a service, or None for an anonymous visitor."""
    return current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
