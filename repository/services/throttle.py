"""Slowing down password guessing: failed log-ins counted per account name and per client address.

Both counts use the same window; an account name is counted whether or not such an account
exists, so the answer never tells a guesser which addresses are real.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, func, select

from repository.db import session
from repository.models import LoginFailure, utcnow

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(minutes=15)
MAX_PER_ACCOUNT = 5  # a person mistyping does not reach it; a guesser gets 20 tries an hour
MAX_PER_ADDRESS = 20  # an office behind one NAT address may hold many people


def _account(email: str) -> str:
    return email.strip().lower()[:255]


def is_locked(email: str, ip: str, now: dt.datetime | None = None) -> bool:
    """Whether too many recent failures for this account name or from this address refuse another try."""
    since = (now or utcnow()) - WINDOW
    by_account = session.scalar(select(func.count()).select_from(LoginFailure)
                                .where(LoginFailure.account == _account(email), LoginFailure.at > since)) or 0
    if by_account >= MAX_PER_ACCOUNT:
        return True
    by_address = session.scalar(select(func.count()).select_from(LoginFailure)
                                .where(LoginFailure.ip == ip[:64], LoginFailure.at > since)) or 0
    return by_address >= MAX_PER_ADDRESS


def record_failure(email: str, ip: str, now: dt.datetime | None = None) -> None:
    moment = now or utcnow()
    session.add(LoginFailure(account=_account(email), ip=ip[:64], at=moment))
    # Old rows are of no use: keep the table small without a cleaning job.
    session.execute(delete(LoginFailure).where(LoginFailure.at < moment - 4 * WINDOW))
    session.commit()
    log.info("login failed account=%r ip=%s", _account(email), ip)


def clear(email: str) -> None:
    """Forget an account's failures once its owner has logged in or reset the password."""
    session.execute(delete(LoginFailure).where(LoginFailure.account == _account(email)))
    session.commit()
