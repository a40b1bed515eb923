"""The harvest loop: Identify, list the window page by page, judge and store each record, checkpoint, dedup.

``harvest_source`` is the whole story on one screen; the helpers below it turn one page into
counts (``harvest.judge`` turns each record into a ``RecordVersion``). Each page's records, its run counts and the
checkpoint (the next resumption token) are committed together, so a run cut off anywhere resumes
at the next page with nothing lost and nothing counted twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from harvest import dedup, garbage, judge, lookahead, quality_reports, store, xslt
from harvest.client import (
    ClientSettings, HarvestError, HostRateLimiter, OAIClient, OAIRecord, Page, TransportError,
    format_datestamp, parse_datestamp,
)
from harvest.judge import Judges, ParseFunction, Recipe
from harvest.models import HarvestRun, Source
from harvest.store import Counts, RecordVersion

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HarvestOptions:
    full: bool = False  # list everything, ignore the last success and any checkpoint
    overlap: dt.timedelta = dt.timedelta(days=1)  # incremental runs start this much before the last success
    until: dt.datetime | None = None
    client: ClientSettings = field(default_factory=ClientSettings)
    dedup: bool = True  # re-cluster what changed when the run ends
    workers: int = 1  # processes that judge records; above 1 (default parser): pages judged ahead, see harvest.lookahead
    # How long the source stays ours without news from this run: renewed with every page, so only
    # a harvester that died (or one stuck on a single page this long) lets another take over.
    lease: dt.timedelta = dt.timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class RunReport:
    run_id: int
    source: str
    status: str
    counts: Counts
    pages: int
    message: str | None


@dataclass(frozen=True, slots=True)
class Progress:
    source: str
    pages: int
    counts: Counts
    complete_list_size: int | None


@dataclass(frozen=True, slots=True)
class _Job:
    """What the loop needs of the source and its run, read once so no ORM object outlives its session."""

    source_id: int
    run_id: int
    name: str
    base_url: str
    prefix: str
    set_spec: str | None
    xslt: str | None
    institution: str | None
    mode: str
    token: str | None
    owner: str  # who holds the source's lease for this run
    lease: dt.timedelta


def harvest_source(sessions: sessionmaker[Session], name: str, options: HarvestOptions = HarvestOptions(), *,
                   parse: ParseFunction | None = None, limiter: HostRateLimiter | None = None,
                   on_page: Callable[[Progress], None] | None = None) -> RunReport:
    """Harvest one source into the store; every outcome, failures included, is recorded as a run.

    Raises ``store.SourceBusy`` (and records nothing) when another harvester holds the source.
    """
    job = _begin(sessions, name, options, f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:8]}")
    client = OAIClient(job.base_url, options.client, limiter)
    status, message = "succeeded", None
    try:
        info = client.identify()
        with sessions.begin() as s:
            source, run = _load(s, job)
            store.record_identify(s, source, repository_name=info.repository_name, granularity=info.granularity,
                                  earliest_datestamp=info.earliest_datestamp, deleted_record=info.deleted_record)
            if not run.pages:
                run.from_used, run.until_used = _window(source, run.mode, options, info.granularity)
            window = (run.from_used, run.until_used)
        with _judged_pages(client, job, window, options, parse, limiter) as pages, garbage.long_run():
            for page, judges in pages:
                with sessions.begin() as s:
                    source, run = _load(s, job)
                    store.add_counts(run, _import_page(s, source, run, page, judges))
                    store.save_checkpoint(source, run, page.token)
                    progress = Progress(job.name, run.pages, _counts(run), page.complete_list_size)
                if on_page is not None:
                    on_page(progress)
        if info.deleted_record == "no" and job.mode == "full":
            present = {h.identifier for p in client.list_identifiers(job.prefix, set_spec=job.set_spec)
                       for h in p.headers if h.identifier and not h.deleted}
            with sessions.begin() as s:
                _sweep_deletions(s, *_load(s, job), present)
    except (HarvestError, xslt.XSLTError) as exc:
        status = "interrupted" if isinstance(exc, TransportError) else "failed"
        message = f"{getattr(exc, 'code', 'xslt')}: {exc}"
    except store.SourceBusy as exc:
        # Another harvester holds the source (and may have resumed this very run): leave it alone.
        log.warning("harvest source=%s run=%d lease lost: %s", job.name, job.run_id, exc)
        return RunReport(job.run_id, job.name, "interrupted", Counts(), 0, f"lease_lost: {exc}")
    except (KeyboardInterrupt, SystemExit):
        _finish(sessions, job, "interrupted", "the harvester was stopped", with_dedup=False)
        raise
    except Exception as exc:  # a bug or a broken worker pool: record the run's end, then let it surface
        _finish(sessions, job, "failed", f"internal_error: {type(exc).__name__}: {exc}", with_dedup=False)
        raise
    # The look-ahead has ended by now: with its core free, a second process builds the merged works.
    return _finish(sessions, job, status, message, options.dedup, parallel=options.workers > 1)


def _begin(sessions: sessionmaker[Session], name: str, options: HarvestOptions, owner: str) -> _Job:
    """Take the source's lease, then resume its unfinished run from its checkpoint, or start a new one."""
    with sessions.begin() as s:
        taken = store.take_lease(s, name, owner, options.lease)  # first: a write, so SQLite waits for the lock
        source = store.get_source(s, name)
        if not taken:
            holder = store.lease_holder(s, source.id)
            who = f"{holder[0]} until {holder[1]:%Y-%m-%d %H:%M:%S} UTC" if holder else "another harvester"
            raise store.SourceBusy(f"source {name} is being harvested by {who}; not starting a second run")
        run = None if options.full else store.resumable_run(s, source)
        if run is not None:
            store.reopen_run(s, run)
            store.add_event(s, run, "info", f"resuming after page {source.checkpoint_pages}", code="resumed")
        else:
            mode = "full" if options.full or source.last_success_from is None else "incremental"
            run = store.start_run(s, source, mode, None, None)
        return _Job(source.id, run.id, source.name, source.base_url, source.metadata_prefix, source.set_spec,
                    source.xslt, source.institution_code, run.mode, source.checkpoint_token if run.pages else None,
                    owner, options.lease)


def _load(s: Session, job: _Job) -> tuple[Source, HarvestRun]:
    """The source and the run, after renewing the lease (the transaction's first statement, see ``store.hold_lease``)."""
    store.hold_lease(s, job.source_id, job.owner, job.lease)
    return s.get_one(Source, job.source_id), s.get_one(HarvestRun, job.run_id)


def _counts(run: HarvestRun) -> Counts:
    return Counts(run.added, run.updated, run.deleted, run.rejected, run.unchanged, run.errors)


def _finish(sessions: sessionmaker[Session], job: _Job, status: str, message: str | None,
            with_dedup: bool, parallel: bool = False) -> RunReport:
    with sessions.begin() as s:
        source, run = _load(s, job)
        if message:
            store.add_event(s, run, "error", message, code=message.split(":", 1)[0])
        if with_dedup:
            dedup.refresh(s, parallel=parallel)
        run.quality = quality_reports.snapshot(s, source.id)
        store.finish_run(s, source, run, status, message)
        store.release_lease(s, source.id, job.owner)
        report = RunReport(run.id, job.name, status, _counts(run), run.pages, message)
    log.info("harvest source=%s run=%d status=%s pages=%d %s", job.name, job.run_id, status, report.pages,
             report.counts)
    return report


def _window(source: Source, mode: str, options: HarvestOptions, granularity: str) -> tuple[str | None, str | None]:
    """``from`` and ``until`` in the source's granularity; a full run has no ``from``."""
    until = format_datestamp(options.until, granularity) if options.until else None
    if mode == "full" or source.last_success_from is None:
        return None, until
    start = source.last_success_from - options.overlap
    earliest = source.earliest_datestamp
    if earliest:
        try:
            start = max(start, parse_datestamp(earliest))
        except ValueError:
            log.warning("source=%s earliestDatestamp %r unreadable; not clipping", source.name, earliest)
    return format_datestamp(start, granularity), until


@contextmanager
def _judged_pages(client: OAIClient, job: _Job, window: tuple[str | None, str | None], options: HarvestOptions,
                  parse: ParseFunction | None, limiter: HostRateLimiter | None,
                  ) -> Iterator[Iterator[tuple[Page, Judges | lookahead.Prejudged]]]:
    """The listing's pages, each with what judges its records.

    With several workers and the default parser, a spawned process fetches and judges the next
    page while this one stores the last (``harvest.lookahead``); a rate limiter shared with other
    clients of this process keeps the listing here, since another process cannot share it.
    """
    recipe = Recipe(job.name, job.prefix, job.xslt, job.institution)
    listing = lookahead.Listing(job.name, job.base_url, job.prefix, job.set_spec, window, job.token)
    if options.workers > 1 and parse is None and limiter is None:
        with lookahead.judged_ahead(listing, options.client, recipe, options.workers) as pages:
            yield pages
        return
    with Judges(recipe, parse, options.workers) as judges:
        yield ((page, judges) for page in lookahead.list_pages(client, listing))


def _import_page(s: Session, source: Source, run: HarvestRun, page: Page,
                 judges: Judges | lookahead.Prejudged) -> Counts:
    """Judge and store one page's records: unchanged ones are recognised by hash and not parsed again."""
    counts = Counts()
    for note in page.notes:
        store.add_event(s, run, "warning", note, code="envelope")
    records: dict[str, OAIRecord] = {}
    for rec in page.records:
        if rec.header.identifier is None:
            counts.rejected += 1
            store.add_event(s, run, "error", "record rejected: its header has no identifier", code="no_identifier")
        else:
            records[rec.header.identifier] = rec  # a repeated identifier: the later copy wins
    known = store.known_records(s, source.id, records)
    # A new repair stylesheet or institution code changes what a record becomes: it is judged again.
    salt = (source.xslt or "") + (f"\x00{source.institution_code}" if source.institution_code else "")
    to_judge: list[tuple[OAIRecord, str]] = []
    versions: list[RecordVersion] = []
    seen: list[int] = []
    for ident, rec in records.items():
        before, digest = known.get(ident), _digest(rec, salt)
        if before is not None and before.content_hash == digest:
            counts.unchanged += 1
            seen.append(before.id)
        elif rec.header.deleted:
            if before is not None and before.deleted:
                counts.unchanged += 1  # a tombstone whose datestamp moved is no new deletion
            else:
                counts.deleted += 1
            versions.append(judge.deletion(rec, digest))
        else:
            to_judge.append((rec, digest))
    for version in judges(to_judge):
        before = known.get(version.oai_identifier)
        if not version.accepted:
            counts.rejected += 1
            store.add_event(s, run, "warning", judge.rejection_message(version), code="rejected",
                            oai_identifier=version.oai_identifier)
        elif before is None:
            counts.added += 1
        else:
            counts.updated += 1
        versions.append(version)
    new = [v for v in versions if v.oai_identifier not in known]
    changed = [(known[v.oai_identifier].id, v) for v in versions if v.oai_identifier in known]
    store.write_records(s, source.id, run.id, new, changed, seen)
    return counts


def _digest(rec: OAIRecord, salt: str) -> str:
    """What 'unchanged' means: the same record XML under the same repair stylesheet and institution code."""
    return hashlib.sha256(f"{rec.raw_xml}\x00{salt}".encode()).hexdigest()


def _sweep_deletions(s: Session, source: Source, run: HarvestRun, present: set[str]) -> None:
    """For sources that keep no deletions: whatever the full listing no longer holds is deleted."""
    live = store.live_identifiers(s, source.id)
    vanished = sorted(rid for ident, rid in live.items() if ident not in present)
    if vanished:
        store.mark_deleted(s, vanished, run.id)
        run.deleted += len(vanished)
        store.add_event(s, run, "info", f"{len(vanished)} records no longer listed by ListIdentifiers: deleted",
                        code="deleted_by_listing")
