"""Secrets handed to people as random tokens and kept only as SHA-256 hashes: API tokens and password-reset links.

A leaked database then yields no usable token; the tokens are long random strings, so a plain
SHA-256 (not a slow password hash) is enough to make them unrecoverable.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from repository.models.base import Base, UTCDateTime, utcnow
from repository.models.users import User


def token_digest(token: str) -> str:
    """The form a token is stored and looked up in."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(Base):
    """A bearer token with which a script acts as its user on the JSON API."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # the first characters, to tell tokens apart in lists
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class PasswordResetToken(Base):
    """A one-time link sent by e-mail that lets its holder choose a new password until it expires."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
