"""``flask oai warm``: write every record OAI-PMH shows ahead of harvests, with a progress bar."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from repository.db import database
from repository.models import utcnow
from repository.oai import payloads, queries
from repository.oai.formats import FORMATS
from repository.oai.settings import ProviderSettings

oai_cli = AppGroup("oai", help="The OAI-PMH provider.")


@oai_cli.command("warm")
@click.option("--format", "prefixes", multiple=True, type=click.Choice(sorted(FORMATS)),
              help="A metadata format to write (repeatable; default: every format).")
@click.option("--batch-size", type=click.IntRange(min=1, max=10_000), default=500, show_default=True)
def warm(prefixes: tuple[str, ...], batch_size: int) -> None:
    """Write the records OAI-PMH shows whose kept copies are missing or stale.

    Harvests keep what they write anyway; warming ahead makes the first full harvest as fast as
    the later ones. Run it after loading many records, after an upgrade or after changing BASE_URL.
    """
    site = ProviderSettings.from_config(current_app.config).site
    formats = [FORMATS[p] for p in (prefixes or FORMATS)]
    now = utcnow()
    started = time.perf_counter()
    with database().sessionmaker() as session:
        total = payloads.records_to_warm(session, now)
        by_path = queries.catalogue(session).unit_ids_by_path
        with click.progressbar(length=total, label=f"Writing {', '.join(f.prefix for f in formats)}") as bar:
            done = payloads.warm(session, site, formats, now, by_path, batch_size=batch_size, progress=bar.update)
    elapsed = time.perf_counter() - started
    click.echo(f"{done.records} records, {len(formats)} format(s): {done.written} payloads written, "
               f"{done.records * len(formats) - done.written} were current; {elapsed:.1f} s "
               f"({done.records / elapsed if elapsed else 0:.0f} records/s).")
