"""The public records a sitemap lists: landing page ids with their datestamps, in id order, in batches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import func, select

from repository.db import session
from repository.models import Publication
from repository.permissions import public_filter

MAX_URLS_PER_SITEMAP = 50_000  # the sitemaps.org limit for one file
BATCH = 5_000


def count_public() -> int:
    return session.scalar(select(func.count()).select_from(Publication).where(public_filter())) or 0


def sitemap_pages() -> int:
    """How many sitemap files the public records need (at least one, even when it is empty)."""
    return max(1, -(-count_public() // MAX_URLS_PER_SITEMAP))


def public_datestamps(page: int = 1, per_page: int = MAX_URLS_PER_SITEMAP) -> Iterator[tuple[int, dt.datetime]]:
    """(id, datestamp) of the public records on sitemap ``page`` (from 1), fetched in keyset batches.

    Each batch is its own short query, so a long response never holds a cursor open and memory
    stays at one batch whatever the number of records.
    """
    if page < 1:
        raise ValueError(f"sitemap pages count from 1, not {page}")
    start = session.scalar(select(Publication.id).where(public_filter()).order_by(Publication.id)
                           .offset((page - 1) * per_page).limit(1))
    if start is None:
        return
    remaining, after = per_page, start - 1
    while remaining > 0:
        rows = session.execute(
            select(Publication.id, Publication.datestamp).where(public_filter(), Publication.id > after)
            .order_by(Publication.id).limit(min(BATCH, remaining))).all()
        if not rows:
            return
        for publication_id, datestamp in rows:
            yield publication_id, datestamp
        remaining -= len(rows)
        after = rows[-1][0]
