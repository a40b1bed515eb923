"""Fixity: do the stored bytes still match the hashes recorded when they were uploaded?

Checked per blob (content is shared between records), against every file row that uses it.
A blob no row uses is an orphan: harmless bytes left by an upload whose database commit
failed (or one that is committing while the check runs), reported so staff can clear them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from repository.db import session
from repository.models import StoredFile
from repository.storage import FileStore


@dataclass(frozen=True, slots=True)
class Expected:
    """What the database says a blob is, and which file rows use it."""

    sha256: str
    md5: str
    size: int
    file_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    blobs: dict[str, Expected]
    files: int

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.blobs.values())


@dataclass(frozen=True, slots=True)
class Missing:
    sha256: str
    file_ids: tuple[int, ...]
    expected_size: int


@dataclass(frozen=True, slots=True)
class Changed:
    sha256: str
    file_ids: tuple[int, ...]
    actual_sha256: str
    actual_md5: str
    actual_size: int


@dataclass(slots=True)
class Report:
    checked: int = 0
    missing: list[Missing] = field(default_factory=list)
    changed: list[Changed] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No bytes were lost (orphans and leftovers are only untidy)."""
        return not self.missing and not self.changed


def plan(store: FileStore) -> Plan:
    """Every blob the database refers to, read in one pass before any hashing starts."""
    blobs: dict[str, list[tuple[int, str, int]]] = {}
    files = 0
    for file_id, sha256, md5, size in session.execute(
            select(StoredFile.id, StoredFile.sha256, StoredFile.md5, StoredFile.size)
            .order_by(StoredFile.sha256, StoredFile.id)):
        blobs.setdefault(sha256, []).append((file_id, md5, size))
        files += 1
    return Plan({sha: Expected(sha, rows[0][1], rows[0][2], tuple(r[0] for r in rows)) for sha, rows in blobs.items()},
                files)


def verify(store: FileStore, plan: Plan, progress: Callable[[int], object] = lambda _n: None) -> Report:
    """Re-hash each planned blob (``progress`` gets the bytes done), then look for orphans and leftovers."""
    report = Report()
    for sha, expected in plan.blobs.items():
        report.checked += 1
        if not store.exists(sha):
            report.missing.append(Missing(sha, expected.file_ids, expected.size))
            progress(expected.size)
            continue
        actual = store.rehash(sha, progress=progress)
        if (actual.sha256, actual.md5, actual.size) != (sha, expected.md5, expected.size):
            report.changed.append(Changed(sha, expected.file_ids, actual.sha256, actual.md5, actual.size))
    report.orphans = [sha for sha in store.blobs() if sha not in plan.blobs]
    report.leftovers = store.leftovers()
    return report
