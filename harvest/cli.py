"""``flask --app wsgi harvest ...``: manage sources, run harvests, show their status and export the merged works.

The only Flask here is how the database URL is found (``current_app.config["DATABASE_URL"]``);
every command hands a session factory to the core (store, run, dedup), which knows nothing of Flask.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session, sessionmaker

from harvest import bibliography, dedup, store, works_export
from harvest.client import ClientSettings
from harvest.models import METADATA_PREFIXES
from harvest.run import HarvestOptions, Progress, RunReport, harvest_source
from harvest.works_export import work_line

harvest_cli = AppGroup("harvest", help="The national aggregator: OAI-PMH sources, harvests and merged works.")



@contextmanager
def _sessions() -> Iterator[sessionmaker[Session]]:
    from repository.db import make_engine  # the thin layer may use the app's engine settings

    engine = make_engine(current_app.config["DATABASE_URL"])
    try:
        yield sessionmaker(bind=engine, expire_on_commit=False)
    finally:
        engine.dispose()


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message)


@harvest_cli.command("add-source")
@click.argument("name")
@click.argument("url")
@click.option("--prefix", type=click.Choice(METADATA_PREFIXES), required=True, help="metadataPrefix to harvest")
@click.option("--set", "set_spec", help="OAI set, e.g. SwePub-kth")
@click.option("--xslt", "xslt_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="repair stylesheet applied to each record before parsing")
@click.option("--schedule", help="when to harvest, as a cron expression (informational for cron users)")
@click.option("--contact", help="who to write to about the source's data")
@click.option("--institution", "institution_code",
              help="KB organisation code (e.g. kth) given to records that name none; oai_dc sources need one, "
                   "or SwePub's rule 01 rejects every record")
def add_source(name: str, url: str, prefix: str, set_spec: str | None, xslt_file: Path | None,
               schedule: str | None, contact: str | None, institution_code: str | None) -> None:
    """Register the OAI-PMH endpoint URL under NAME."""
    xslt_text = xslt_file.read_text(encoding="utf-8") if xslt_file else None
    with _sessions() as sessions:
        try:
            with sessions.begin() as s:
                store.add_source(s, name, url, prefix, set_spec=set_spec, xslt_text=xslt_text, schedule=schedule,
                                 contact=contact, institution_code=institution_code)
        except store.SourceError as exc:
            raise _fail(str(exc)) from None
    click.echo(f"Source {name} added: {url} ({prefix}{', set ' + set_spec if set_spec else ''}).")


@harvest_cli.command("list")
def list_sources() -> None:
    """Every source with its endpoint and what Identify said."""
    with _sessions() as sessions, sessions() as s:
        sources = store.list_sources(s)
        for src in sources:
            facts = f"granularity {src.granularity}, deletedRecord {src.deleted_record}" if src.granularity else "not identified yet"
            flags = "" if src.enabled else " [disabled]"
            xslt = " +xslt" if src.xslt else ""
            click.echo(f"{src.name}\t{src.base_url}\t{src.metadata_prefix}{' set ' + src.set_spec if src.set_spec else ''}"
                       f"{xslt}{flags}\t{facts}")
    if not sources:
        click.echo("No sources yet: add one with `harvest add-source NAME URL --prefix swepub_mods`.")


@harvest_cli.command("run")
@click.argument("names", nargs=-1)
@click.option("--full", is_flag=True, help="list everything again instead of the changes since the last run")
@click.option("--overlap-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="incremental runs start this long before the last successful run started")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=90.0, show_default=True)
@click.option("--min-interval", type=click.FloatRange(min=0), default=0.5, show_default=True,
              help="seconds between two requests to one host")
@click.option("--workers", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="the CPU count",
              help="processes that parse and check records")
def run(names: tuple[str, ...], full: bool, overlap_hours: float, timeout: float, min_interval: float,
        workers: int) -> None:
    """Harvest the sources NAMES (all enabled sources if none is named)."""
    options = HarvestOptions(full=full, overlap=dt.timedelta(hours=overlap_hours), workers=workers,
                             client=ClientSettings(timeout=timeout, min_interval=min_interval))
    reports: list[RunReport] = []
    with _sessions() as sessions:
        with sessions() as s:
            try:
                chosen = [store.get_source(s, n).name for n in names] or [
                    src.name for src in store.list_sources(s) if src.enabled]
            except store.SourceError as exc:
                raise _fail(str(exc)) from None
        if not chosen:
            click.echo("No enabled sources to harvest.")
        for name in chosen:
            try:
                reports.append(harvest_source(sessions, name, options, on_page=_progress))
            except store.SourceBusy as exc:
                # Cron started this while the last run (or a Celery worker) still harvests: not an error.
                click.echo(f"{name}: skipped - {exc}")
                continue
            if sys.stderr.isatty():
                click.echo(file=sys.stderr)
    for r in reports:
        c = r.counts
        click.echo(f"{r.source}: {r.status}, {r.pages} pages, added {c.added}, updated {c.updated}, deleted "
                   f"{c.deleted}, rejected {c.rejected}, unchanged {c.unchanged}, errors {c.errors}"
                   + (f" - {r.message}" if r.message else ""))
    if any(r.status != "succeeded" for r in reports):
        raise SystemExit(1)


def _progress(p: Progress) -> None:
    """One updating line per source on a terminal; nothing in a pipe or a cron mail."""
    if not sys.stderr.isatty():
        return
    total = f" of {p.complete_list_size}" if p.complete_list_size else ""
    seen = p.counts.added + p.counts.updated + p.counts.deleted + p.counts.rejected + p.counts.unchanged
    click.echo(f"\r{p.source}: page {p.pages}, {seen}{total} records (added {p.counts.added}, rejected "
               f"{p.counts.rejected})", nl=False, file=sys.stderr)


@harvest_cli.command("status")
def status() -> None:
    """The last run of every source, its records and whether a run waits to be resumed."""
    with _sessions() as sessions, sessions() as s:
        runs = store.latest_runs(s)
        counts = store.record_counts(s)
        for src in store.list_sources(s):
            held = counts.get(src.id, {"accepted": 0, "rejected": 0, "deleted": 0})
            line = f"{src.name}: {held['accepted']} accepted, {held['rejected']} rejected, {held['deleted']} deleted"
            last = runs.get(src.id)
            if last is None:
                click.echo(f"{line}; never harvested")
                continue
            when = (last.finished or last.started).strftime("%Y-%m-%d %H:%M UTC")
            line += (f"; last run #{last.id} {last.mode} {last.status} {when}: added {last.added}, updated "
                     f"{last.updated}, deleted {last.deleted}, rejected {last.rejected}, errors {last.errors}")
            if src.checkpoint_token:
                line += f"; resumes after page {src.checkpoint_pages}"
            click.echo(line + (f" - {last.message}" if last.message else ""))
            for event in store.run_events(s, last.id)[-5:]:
                if event.level == "error":
                    click.echo(f"    {event.code}: {event.message}")


@harvest_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(("jsonl", "csv")), default="jsonl", show_default=True)
@click.option("--institution", "institutions", multiple=True, help="only works an institution contributed to")
@click.option("--year", "years", multiple=True, help="only works published in a year (repeatable)")
def export(fmt: str, institutions: tuple[str, ...], years: tuple[str, ...]) -> None:
    """Write the merged works to standard output, one per line, with their sources and quality flags."""
    try:
        query = bibliography.make_query(filters={"institution": institutions, "year": years})
    except bibliography.BibliographyQueryError as exc:
        raise _fail(str(exc)) from None
    with _sessions() as sessions, sessions() as s:
        lines = (work_line(work, members) for work, members in store.iter_works(s, where=bibliography.where(query)))
        for text in (works_export.csv_text(lines) if fmt == "csv" else works_export.jsonl(lines)):
            sys.stdout.write(text)


@harvest_cli.command("split")
@click.argument("record_a", type=int)
@click.argument("record_b", type=int)
@click.option("--by", "who", required=True, help="who decides (kept with the decision)")
@click.option("--comment")
def split(record_a: int, record_b: int, who: str, comment: str | None) -> None:
    """Keep two harvested records in different works, now and after every later harvest."""
    _decide(record_a, record_b, "force_split", who, comment)


@harvest_cli.command("merge")
@click.argument("record_a", type=int)
@click.argument("record_b", type=int)
@click.option("--by", "who", required=True, help="who decides (kept with the decision)")
@click.option("--comment")
def merge(record_a: int, record_b: int, who: str, comment: str | None) -> None:
    """Put two harvested records in one work, whatever the matching rules say."""
    _decide(record_a, record_b, "force_merge", who, comment)


def _decide(record_a: int, record_b: int, decision: str, who: str, comment: str | None) -> None:
    with _sessions() as sessions:
        try:
            with sessions.begin() as s:
                store.decide(s, record_a, record_b, decision, who, comment)
                report = dedup.refresh(s)
        except store.SourceError as exc:
            raise _fail(str(exc)) from None
    click.echo(f"{decision.replace('_', ' ')} of records {record_a} and {record_b} recorded; "
               f"{report.works_written} works rewritten.")

