"""The embedded search index (one flat document per public record, with its facet values) and the
queue of index operations still owed to an external search server.

The document's text columns feed SQLite's FTS5 table or PostgreSQL's ``search_words`` (id and
``tsv``); both are created by migrations (0006, 0011) in the dialect's own SQL, because neither
is a plain table that the models could declare for both databases.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import Base, UTCDateTime, utcnow


class SearchDocument(Base):
    """What search needs of a public record: words by field, facet columns and sort keys."""

    __tablename__ = "search_documents"
    __table_args__ = (
        Index("ix_search_documents_sort_date", "sort_date", "publication_id"),
        Index("ix_search_documents_sort_title", "sort_title", "publication_id"),
        Index("ix_search_documents_published_at", "published_at", "publication_id"),
        Index("ix_search_documents_type_year", "publication_type", "year"),
    )

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True, autoincrement=False)
    institution_code: Mapped[str] = mapped_column(String(32))
    publication_type: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str | None] = mapped_column(String(8))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    thesis_level: Mapped[str | None] = mapped_column(String(32))
    # The first day a full text is open to anyone: embargoes lift by themselves, so "open access"
    # is decided at query time as open_from <= today.
    open_from: Mapped[dt.date | None] = mapped_column(Date)
    public_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sort_date: Mapped[int] = mapped_column(Integer)  # yyyymmdd of the issued date, 0 when unknown
    sort_title: Mapped[str] = mapped_column(String(255))
    title_text: Mapped[str] = mapped_column(Text, default="")
    names_text: Mapped[str] = mapped_column(Text, default="")
    subject_text: Mapped[str] = mapped_column(Text, default="")
    abstract_text: Mapped[str] = mapped_column(Text, default="")
    other_text: Mapped[str] = mapped_column(Text, default="")
    indexed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SearchValue(Base):
    """One exact key of a document: a unit path, subject code, language, person, ORCID or identifier."""

    __tablename__ = "search_values"
    # Covering: counting facets joins hits to their values without touching the table itself;
    # without SQLite's rowid each key lives in two B-trees instead of three.
    __table_args__ = (Index("ix_search_values_publication", "publication_id", "facet", "value"),
                      {"sqlite_with_rowid": False})

    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(512), primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("search_documents.publication_id", ondelete="CASCADE"), primary_key=True)


class SearchState(Base):
    """One row whose ``generation`` changes in every transaction that changes the index.

    Processes that keep facet bitsets in memory compare it to know whether theirs are current;
    a random token (not a counter) so that a rolled-back change can never be mistaken for a
    committed one that happens to reach the same number.
    """

    __tablename__ = "search_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[str] = mapped_column(String(32))


class SearchQueueItem(Base):
    """A record whose state the external search server has not yet been told about.

    Written in the transaction that changes the record and deleted once the server has the
    record's committed state, so an outage of the server delays the index but loses nothing.
    """

    __tablename__ = "search_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(Integer, index=True)  # no FK: a deleted record must leave the index
    enqueued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)


__all__ = ["SearchDocument", "SearchValue", "SearchState", "SearchQueueItem"]
