"""Failed log-in attempts, kept for a short while so that repeated guessing can be slowed down."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import Base, UTCDateTime, utcnow


class LoginFailure(Base):
    """One failed attempt; counted per account name and per client address within a time window.

    The account name is stored as typed (lower-cased) whether or not such an account exists, so
    the throttle behaves the same for real and invented addresses and reveals neither.
    """

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_account_at", "account", "at"),
        Index("ix_login_failures_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
