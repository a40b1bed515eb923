"""Per-institution quality reports over the harvested records: counts by problem code, worst records, trend, rows for CSV.

SwePub sends each university a report of what its records lack; repository managers fix the worst
first and watch the counts fall from harvest to harvest. The counts come from one row per
problem (``harvest_record_problems``, written with each record) so they are GROUP BYs, not a
walk through every record's JSON; the trend is the snapshot each run leaves on its row
(``HarvestRun.quality``), since a record's past problems are overwritten by its present ones.
An institution is a record's organisation code, or its source's name when it names none.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from exports.vocabularies import flag_labels
from harvest.models import HarvestedRecord, HarvestRun, RecordProblem, Source

SEVERITY_ORDER = ("reject", "error", "warning", "info")
_LIVE = HarvestedRecord.deleted.is_(False)


@dataclass(frozen=True, slots=True)
class InstitutionSummary:
    institution: str
    live: int
    accepted: int
    rejected: int
    problems: int


@dataclass(frozen=True, slots=True)
class CodeCount:
    code: str
    severity: str
    name: str | None
    records: int
    label: str  # SwePub's flag label where it has one, else an example of the message


@dataclass(frozen=True, slots=True)
class WorstRecord:
    record_id: int
    source: str
    oai_identifier: str
    title: str
    accepted: bool
    score: int
    problems: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    run_id: int
    source: str
    at: dt.datetime
    status: str
    live: int
    accepted: int
    rejected: int
    by_severity: dict[str, int]


@functools.cache
def _labels() -> dict[str, dict[str, str]]:
    return flag_labels()  # read from its file on every call: once is enough


def label_for(code: str, name: str | None, message: str) -> str:
    """SwePub's English label for the flag (``exports.vocabularies.flag_labels``) when the rule has one."""
    labels = _labels()
    for key in (name, code):
        if key and key in labels:
            return labels[key]["en"]
    return message


def snapshot(session: Session, source_id: int) -> dict[str, Any]:
    """The source's live records per institution after a run: counts and problems by ``code:severity``."""
    out: dict[str, Any] = {}
    rows = session.execute(
        select(HarvestedRecord.institution, HarvestedRecord.accepted, func.count())
        .where(HarvestedRecord.source_id == source_id, _LIVE)
        .group_by(HarvestedRecord.institution, HarvestedRecord.accepted))
    for institution, accepted, n in rows:
        slot = out.setdefault(institution or "", {"live": 0, "accepted": 0, "codes": {}})
        slot["live"] += n
        slot["accepted"] += n if accepted else 0
    problems = session.execute(
        select(HarvestedRecord.institution, RecordProblem.code, RecordProblem.severity, func.count())
        .join(HarvestedRecord, HarvestedRecord.id == RecordProblem.record_id)
        .where(HarvestedRecord.source_id == source_id, _LIVE)
        .group_by(HarvestedRecord.institution, RecordProblem.code, RecordProblem.severity))
    for institution, code, severity, n in problems:
        out.setdefault(institution or "", {"live": 0, "accepted": 0, "codes": {}})["codes"][f"{code}:{severity}"] = n
    return out


def institutions(session: Session) -> list[InstitutionSummary]:
    """Every institution with live records, most records first."""
    records = session.execute(
        select(HarvestedRecord.institution, func.count(), func.sum(case((HarvestedRecord.accepted, 1), else_=0)))
        .where(_LIVE, HarvestedRecord.institution.is_not(None)).group_by(HarvestedRecord.institution)).all()
    problems = dict(session.execute(
        select(HarvestedRecord.institution, func.count()).join(RecordProblem, RecordProblem.record_id == HarvestedRecord.id)
        .where(_LIVE, RecordProblem.severity != "info").group_by(HarvestedRecord.institution)).all())
    found = [InstitutionSummary(inst, n, int(ok or 0), n - int(ok or 0), problems.get(inst, 0))
             for inst, n, ok in records]
    return sorted(found, key=lambda s: (-s.live, s.institution))


def summary(session: Session, institution: str) -> InstitutionSummary | None:
    return next((s for s in institutions(session) if s.institution == institution), None)


def code_counts(session: Session, institution: str) -> list[CodeCount]:
    """Records per problem code of the institution's live records, most severe and most frequent first."""
    rows = session.execute(
        select(RecordProblem.code, RecordProblem.severity, func.max(RecordProblem.name),
               func.count(func.distinct(RecordProblem.record_id)), func.min(RecordProblem.message))
        .join(HarvestedRecord, HarvestedRecord.id == RecordProblem.record_id)
        .where(HarvestedRecord.institution == institution, _LIVE)
        .group_by(RecordProblem.code, RecordProblem.severity))
    counts = [CodeCount(code, severity, name, n, label_for(code, name, example))
              for code, severity, name, n, example in rows]
    return sorted(counts, key=lambda c: (SEVERITY_ORDER.index(c.severity) if c.severity in SEVERITY_ORDER else 9,
                                         -c.records, c.code))


def worst_records(session: Session, institution: str, limit: int = 50) -> list[WorstRecord]:
    """The institution's live records with the most serious problems (rejections first)."""
    rows = session.execute(
        select(HarvestedRecord.id, Source.name, HarvestedRecord.oai_identifier, HarvestedRecord.record,
               HarvestedRecord.accepted, HarvestedRecord.quality_score, HarvestedRecord.problems)
        .join(Source, Source.id == HarvestedRecord.source_id)
        .where(HarvestedRecord.institution == institution, _LIVE, HarvestedRecord.quality_score > 0)
        .order_by(HarvestedRecord.quality_score.desc(), HarvestedRecord.id).limit(limit))
    return [WorstRecord(rid, source, ident, _title(record), accepted, score,
                        [p for p in problems if p["severity"] != "info"])
            for rid, source, ident, record, accepted, score, problems in rows]


def _title(record: dict[str, Any] | None) -> str:
    titles = (record or {}).get("titles") or []
    return titles[0].get("title", "") if titles else ""


def trend(session: Session, institution: str, limit: int = 60) -> list[TrendPoint]:
    """The institution's records run after run, oldest first, from each finished run's snapshot."""
    sources = select(HarvestedRecord.source_id).where(HarvestedRecord.institution == institution).distinct()
    runs = session.execute(
        select(HarvestRun.id, Source.name, HarvestRun.finished, HarvestRun.status, HarvestRun.quality)
        .join(Source, Source.id == HarvestRun.source_id)
        .where(HarvestRun.source_id.in_(sources), HarvestRun.finished.is_not(None), HarvestRun.quality.is_not(None))
        .order_by(HarvestRun.id.desc()).limit(limit)).all()
    points = []
    for run_id, source, finished, status, quality in reversed(runs):
        mine = quality.get(institution)
        if mine is None:
            continue
        by_severity = {severity: 0 for severity in SEVERITY_ORDER}
        for key, n in mine["codes"].items():
            severity = key.rsplit(":", 1)[-1]
            by_severity[severity] = by_severity.get(severity, 0) + n
        points.append(TrendPoint(run_id, source, finished, status, mine["live"], mine["accepted"],
                                 mine["live"] - mine["accepted"], by_severity))
    return points


PROBLEM_COLUMNS = ("record_id", "source", "oai_identifier", "accepted", "code", "severity", "label", "path",
                   "message")


def problem_rows(session: Session, institution: str, batch: int = 2000) -> Iterator[tuple[Any, ...]]:
    """Every problem of the institution's live records, a batch at a time (for a streamed CSV)."""
    last = 0
    while True:
        rows = session.execute(
            select(RecordProblem.id, HarvestedRecord.id, Source.name, HarvestedRecord.oai_identifier,
                   HarvestedRecord.accepted, RecordProblem.code, RecordProblem.severity, RecordProblem.name,
                   RecordProblem.path, RecordProblem.message)
            .join(HarvestedRecord, HarvestedRecord.id == RecordProblem.record_id)
            .join(Source, Source.id == HarvestedRecord.source_id)
            .where(HarvestedRecord.institution == institution, _LIVE, RecordProblem.id > last)
            .order_by(RecordProblem.id).limit(batch)).all()
        if not rows:
            return
        for _, rid, source, ident, accepted, code, severity, name, path, message in rows:
            label = label_for(code, name, "")
            yield rid, source, ident, accepted, code, severity, label, path, message
        last = rows[-1][0]
