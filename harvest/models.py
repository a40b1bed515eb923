"""The aggregator's tables, on a declarative base of their own so its core needs nothing from repository/."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, MetaData, String, Text,
    UniqueConstraint, func, select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

METADATA_PREFIXES: tuple[str, ...] = ("swepub_mods", "mods", "oai_dc")
RUN_MODES: tuple[str, ...] = ("full", "incremental")
RUN_STATUSES: tuple[str, ...] = ("running", "succeeded", "failed", "interrupted")
MEMBERSHIP_DECIDERS: tuple[str, ...] = ("auto", "operator")
MERGE_DECISIONS: tuple[str, ...] = ("force_merge", "force_split")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTC(TypeDecorator[dt.datetime]):
    """Naive UTC in the column, an aware datetime in Python.

    OAI-PMH datestamps are UTC by definition; keeping the zone out of the column makes SQLite and
    PostgreSQL compare and sort them identically, and refusing naive input keeps local times out.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"a harvest timestamp must carry its zone, got the naive {value.isoformat()}")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        return stamp.replace(tzinfo=dt.UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class HarvestBase(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class Source(HarvestBase):
    """An OAI-PMH endpoint we harvest, what its Identify told us, and where an unfinished run stopped."""

    __tablename__ = "harvest_sources"
    __table_args__ = (CheckConstraint(_one_of("metadata_prefix", METADATA_PREFIXES), name="prefix"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_url: Mapped[str] = mapped_column(String(1000))
    metadata_prefix: Mapped[str] = mapped_column(String(32))
    set_spec: Mapped[str | None] = mapped_column(String(255))
    schedule: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(255))
    xslt: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[dt.datetime] = mapped_column(UTC, default=utc_now)
    # What Identify said the last time; the granularity shapes every from/until we send.
    repository_name: Mapped[str | None] = mapped_column(String(500))
    granularity: Mapped[str | None] = mapped_column(String(32))
    earliest_datestamp: Mapped[str | None] = mapped_column(String(32))
    deleted_record: Mapped[str | None] = mapped_column(String(16))
    identified_at: Mapped[dt.datetime | None] = mapped_column(UTC)
    # When the last successful run started: the next incremental run asks from here (minus overlap).
    last_success_from: Mapped[dt.datetime | None] = mapped_column(UTC)
    # The position of an unfinished run, written with each page's records in one transaction.
    # No foreign key on the run id: runs already point at sources, and a cycle would make the
    # tables impossible to create or drop in one order.
    checkpoint_run_id: Mapped[int | None] = mapped_column(Integer)
    checkpoint_token: Mapped[str | None] = mapped_column(Text)
    checkpoint_pages: Mapped[int] = mapped_column(Integer, default=0)
    # The KB organisation code given to records that name none (oai_dc has no recordContentSource).
    institution_code: Mapped[str | None] = mapped_column(String(64))
    # A lease, not a lock held by a connection: whoever harvests the source renews it with each
    # page, and a harvester that died leaves it to expire, so a crash never blocks a source for good.
    lock_owner: Mapped[str | None] = mapped_column(String(200))
    lock_expires: Mapped[dt.datetime | None] = mapped_column(UTC)

    runs: Mapped[list[HarvestRun]] = relationship(back_populates="source", cascade="all, delete-orphan",
                                                  passive_deletes=True, lazy="raise")


class HarvestRun(HarvestBase):
    """One harvest of one source: the window asked for, how it ended and what it changed."""

    __tablename__ = "harvest_runs"
    __table_args__ = (
        CheckConstraint(_one_of("mode", RUN_MODES), name="mode"),
        CheckConstraint(_one_of("status", RUN_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_sources.id", ondelete="CASCADE"), index=True)
    started: Mapped[dt.datetime] = mapped_column(UTC, default=utc_now)
    finished: Mapped[dt.datetime | None] = mapped_column(UTC)
    mode: Mapped[str] = mapped_column(String(16))
    from_used: Mapped[str | None] = mapped_column(String(32))
    until_used: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="running")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    deleted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # The source's records after the run, per institution: {"kth": {"live": n, "accepted": n,
    # "codes": {"05:reject": n, ...}}}; a quality report's trend is this, run after run.
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    source: Mapped[Source] = relationship(back_populates="runs")
    events: Mapped[list[RunEvent]] = relationship(back_populates="run", cascade="all, delete-orphan",
                                                  passive_deletes=True, order_by="RunEvent.id", lazy="raise")


class RunEvent(HarvestBase):
    """One line of a run's log: a rejected record, a retried page, an OAI error with its code."""

    __tablename__ = "harvest_run_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("harvest_runs.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTC, default=utc_now)
    level: Mapped[str] = mapped_column(String(16))  # info | warning | error
    code: Mapped[str | None] = mapped_column(String(64))  # OAI error code or our own reason code
    oai_identifier: Mapped[str | None] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text)

    run: Mapped[HarvestRun] = relationship(back_populates="events")


class HarvestedRecord(HarvestBase):
    """A record as a source last sent it: the original XML, its normalised form and its verdict."""

    __tablename__ = "harvest_records"
    __table_args__ = (UniqueConstraint("source_id", "oai_identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("harvest_sources.id", ondelete="CASCADE"))
    oai_identifier: Mapped[str] = mapped_column(String(500))
    datestamp: Mapped[dt.datetime | None] = mapped_column(UTC)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_xml: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    xsd_valid: Mapped[bool | None] = mapped_column(Boolean)
    content_hash: Mapped[str] = mapped_column(String(64))
    # What deduplication compares, kept beside the record so a re-cluster never rebuilds records.
    match_features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_seen_run_id: Mapped[int | None] = mapped_column(ForeignKey("harvest_runs.id", ondelete="SET NULL"))
    last_seen_run_id: Mapped[int | None] = mapped_column(ForeignKey("harvest_runs.id", ondelete="SET NULL"))
    # Whose record it is for the quality reports: its organisation code, else its source's name.
    institution: Mapped[str | None] = mapped_column(String(100))
    # How bad its problems are, worst first in the reports (see ``store.quality_score``).
    quality_score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    source: Mapped[Source] = relationship(lazy="joined", innerjoin=True)


Index("ix_harvest_records_institution_score", HarvestedRecord.institution, HarvestedRecord.quality_score)
# Covering for the per-institution counts a run records when it ends (quality_reports.snapshot):
# the columns sit after the XML and the JSON in each row, so reading them from the table read
# every record whole (4-6 s at 1,000,000 records; 0.1 s from this index).
Index("ix_harvest_records_source_live", HarvestedRecord.source_id, HarvestedRecord.deleted,
      HarvestedRecord.institution, HarvestedRecord.accepted)


class DedupPending(HarvestBase):
    """A record deduplication has yet to take in: new, changed or deleted, or under a new operator decision.

    A narrow queue rather than a flag on the record: a refresh after a large harvest clears a
    million entries, and setting a column rewrote each wide record row (17-20 s of a
    1,000,000-record refresh on SQLite). A refresh deletes exactly the entries it read, so a
    record queued again meanwhile (another source's harvest committing a page) stays queued.
    """

    __tablename__ = "harvest_dedup_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("harvest_records.id", ondelete="CASCADE"), index=True)


class RecordProblem(HarvestBase):
    """One problem of a record's current version, as a row, so quality reports count with SQL."""

    __tablename__ = "harvest_record_problems"
    # With the code and severity, counting a source's problems by institution reads no problem row.
    __table_args__ = (Index("ix_harvest_record_problems_record_code", "record_id", "code", "severity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("harvest_records.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(100))  # SwePub's name for the rule, where it has one
    path: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)


class BlockingKey(HarvestBase):
    """A key under which deduplication compares a record with others (a DOI, a fuzzy title key...)."""

    __tablename__ = "harvest_blocking_keys"

    record_id: Mapped[int] = mapped_column(ForeignKey("harvest_records.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)


class Work(HarvestBase):
    """An entry of the national bibliography: one or more harvested records merged, with provenance."""

    __tablename__ = "harvest_works"

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster_key: Mapped[str] = mapped_column(String(300), index=True)
    master_record_id: Mapped[int | None] = mapped_column(ForeignKey("harvest_records.id", ondelete="SET NULL"))
    # The merged record of a work of several records. NULL for a work of one record (most works),
    # whose merged record is that record as harvested: a copy on every such work was the largest
    # part of what each re-clustering wrote. Read ``merged_record``, which is either.
    merged: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), deferred=True)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    institutions: Mapped[list[str]] = mapped_column(JSON, default=list)
    record_count: Mapped[int] = mapped_column(Integer, default=1)
    updated: Mapped[dt.datetime] = mapped_column(UTC, default=utc_now)
    # The merged record, whether stored here or read from the work's only record, in the same query.
    merged_record: Mapped[dict[str, Any] | None] = column_property(func.coalesce(
        merged, select(HarvestedRecord.record).where(HarvestedRecord.id == master_record_id)
        .correlate_except(HarvestedRecord).scalar_subquery()))
    # What the national bibliography sorts, filters and matches words on, taken from ``merged_record``.
    year: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0: none given, so keysets need no NULLs
    publication_type: Mapped[str | None] = mapped_column(String(16))
    sort_title: Mapped[str] = mapped_column(String(255), default="", server_default="")
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    memberships: Mapped[list[WorkMembership]] = relationship(
        back_populates="work", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin")


Index("ix_harvest_works_year_id", Work.year, Work.id)
Index("ix_harvest_works_sort_title_id", Work.sort_title, Work.id)


class WorkFacet(HarvestBase):
    """One facet value of a work (institution, year, type, content, subject, oa, language), for counting and filtering."""

    __tablename__ = "harvest_work_facets"
    __table_args__ = (Index("ix_harvest_work_facets_value", "facet", "value", "work_id"),)

    work_id: Mapped[int] = mapped_column(ForeignKey("harvest_works.id", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(100), primary_key=True)


class WorkMembership(HarvestBase):
    """Why a record belongs to a work: the explanation shown on the work's page."""

    __tablename__ = "harvest_work_memberships"
    __table_args__ = (CheckConstraint(_one_of("decided_by", MEMBERSHIP_DECIDERS), name="decided_by"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("harvest_works.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("harvest_records.id", ondelete="CASCADE"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(16), default="auto")

    work: Mapped[Work] = relationship(back_populates="memberships")


class MergeDecision(HarvestBase):
    """An operator's verdict on a pair of records, honoured by every later clustering."""

    __tablename__ = "harvest_merge_decisions"
    __table_args__ = (
        UniqueConstraint("record_a_id", "record_b_id"),
        CheckConstraint(_one_of("decision", MERGE_DECISIONS), name="decision"),
        CheckConstraint("record_a_id < record_b_id", name="ordered_pair"),
        Index("ix_harvest_merge_decisions_record_b_id", "record_b_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_a_id: Mapped[int] = mapped_column(ForeignKey("harvest_records.id", ondelete="CASCADE"))
    record_b_id: Mapped[int] = mapped_column(ForeignKey("harvest_records.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(255))
    decided_at: Mapped[dt.datetime] = mapped_column(UTC, default=utc_now)
    comment: Mapped[str | None] = mapped_column(Text)
