"""``flask search``: rebuild the index (embedded or OpenSearch) with a progress bar, push the queue."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from repository.db import database
from repository.models import Publication, SearchQueueItem
from repository.search import EXTENSION
from repository.search.indexer import index_all

search_cli = AppGroup("search", help="The search index.")


@search_cli.command("reindex")
@click.option("--batch-size", type=click.IntRange(min=1, max=20000), default=2000, show_default=True)
def reindex(batch_size: int) -> None:
    """Rebuild the search index from the database.

    The embedded index is rewritten batch by batch; with SEARCH_URL set, a new OpenSearch index is
    built beside the live one and the alias moves to it when it is complete (no downtime).
    """
    external = current_app.extensions[EXTENSION].external
    engine = database().engine
    started = time.perf_counter()
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Publication)).scalar_one()
        with click.progressbar(length=total, label="Embedded index") as bar:
            indexed = index_all(conn, batch_size=batch_size, progress=bar.update)
        if external is not None:
            with click.progressbar(length=total, label="OpenSearch index") as bar:
                indexed = external.reindex(conn, batch_size=batch_size, progress=bar.update)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - started
    click.echo(f"Indexed {indexed} public records of {total} in {elapsed:.1f} s.")


@search_cli.command("sync")
def sync() -> None:
    """Push changes still queued for OpenSearch (after an outage); run it from cron if you like."""
    external = current_app.extensions[EXTENSION].external
    if external is None:
        click.echo("The embedded index is updated in each transaction; there is no queue to push.")
        return
    pushed = total = 0
    while (sent := external.drain(database().sessionmaker, due_only=False)) > 0:  # type: ignore[attr-defined]
        pushed += sent
    with database().sessionmaker() as session:
        total = session.scalar(select(func.count()).select_from(SearchQueueItem)) or 0
    click.echo(f"Pushed {pushed} records; {total} changes still queued.")
    if total:
        raise SystemExit(1)


@search_cli.command("reindex-works")
def reindex_works_command() -> None:
    """Rebuild the national bibliography's search index from the harvester's merged works (OpenSearch)."""
    from harvest.models import Work
    from repository.search.works import WORKS_ALIAS, reindex_works, works_index

    external = current_app.extensions[EXTENSION].external
    if external is None:
        raise click.UsageError("the national bibliography is searched with OpenSearch: set SEARCH_URL")
    with database().sessionmaker() as session:
        total = session.scalar(select(func.count()).select_from(Work)) or 0
        started = time.perf_counter()
        with click.progressbar(length=total, label="Works index") as bar:
            index = works_index(external, current_app.config.get("SEARCH_WORKS_INDEX", WORKS_ALIAS))
            indexed = reindex_works(session, index, progress=bar.update)
    click.echo(f"Indexed {indexed} works in {time.perf_counter() - started:.1f} s.")
