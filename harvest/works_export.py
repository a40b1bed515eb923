"""The merged works as export lines: one JSON object or CSV row per work, with sources, institutions and quality flags.

Shared by ``flask --app wsgi harvest export`` and the national bibliography's bibliometric
export, so a file fetched from the web and one written by cron say the same thing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from harvest.models import HarvestedRecord, Work, WorkMembership

CSV_COLUMNS = ("work_id", "title", "year", "publication_type", "content_type", "doi", "institutions", "sources",
               "record_count", "open_access", "quality_flags")


def work_line(work: Work, members: list[tuple[HarvestedRecord, WorkMembership]]) -> dict[str, Any]:
    """One work as the export line: merged record, provenance, sources with reasons, quality flags."""
    flags = sorted({f"{p['code']}:{p['severity']}" for record, _ in members for p in record.problems
                    if p["severity"] in ("error", "warning")})
    return {
        "work_id": work.id, "cluster_key": work.cluster_key, "record": work.merged_record, "provenance": work.provenance,
        "institutions": work.institutions,
        "open_access": any((record.match_features or {}).get("oa") for record, _ in members),
        "sources": [{"source": record.source.name, "oai_identifier": record.oai_identifier, "record_id": record.id,
                     "reason": membership.reason, "decided_by": membership.decided_by,
                     "xsd_valid": record.xsd_valid} for record, membership in members],
        "quality_flags": flags,
    }


def csv_row(line: dict[str, Any]) -> list[Any]:
    record = line["record"] or {}  # None only while a run has yet to re-cluster a changed record
    titles = record.get("titles") or [{}]
    doi = next((i["value"] for i in record.get("identifiers", []) if i["scheme"] == "doi"), "")
    return [line["work_id"], titles[0].get("title", ""), (record.get("issued") or "")[:4],
            record.get("publication_type", ""), record.get("content_type", ""), doi, ";".join(line["institutions"]),
            ";".join(f"{s['source']}:{s['oai_identifier']}" for s in line["sources"]), len(line["sources"]),
            "true" if line["open_access"] else "false", ";".join(line["quality_flags"])]


def jsonl(lines: Iterable[dict[str, Any]]) -> Iterator[str]:
    for line in lines:
        yield json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n"


def csv_text(lines: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The header, then one CSV row per line, each as text ready to write or stream."""
    return rows_as_csv(CSV_COLUMNS, (csv_row(line) for line in lines))


def rows_as_csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Any header and rows as CSV text, a row at a time (quality reports stream through this too)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow(list(row))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
