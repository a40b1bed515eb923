"""``flask demo load``: realistic demo publications, with a progress bar and a summary."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from repository.db import database
from repository.demo import count_publications, load_demo

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("load")
@click.option("--records", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--seed", type=int, default=2024, show_default=True, help="Same seed, same records.")
@click.option("--once", is_flag=True, help="Do nothing if the database already holds publications.")
@click.option("--no-files", is_flag=True, help="Record files in the database without writing their bytes.")
def load(records: int, seed: int, once: bool, no_files: bool) -> None:
    """Load RECORDS demo publications of every type, with people, units, files and tombstones."""
    engine = database().engine
    with engine.connect() as conn:
        if once and count_publications(conn):
            click.echo("Demo data already loaded; nothing to do.")
            return
        started = time.perf_counter()
        files_root = None if no_files else current_app.config["FILES_ROOT"]
        with click.progressbar(length=records, label="Loading demo publications") as bar:
            summary = load_demo(conn, records, seed=seed, files_root=files_root, progress=bar.update)
    elapsed = time.perf_counter() - started
    click.echo(f"Loaded {summary.publications} publications in {elapsed:.1f} s: records and files in "
               f"{summary.load_seconds:.1f} s ({summary.publications / summary.load_seconds:.0f} records/s), "
               f"search index in {summary.index_seconds:.1f} s; {summary.files} files, {summary.withdrawn} withdrawn, "
               f"{summary.persons} persons, {summary.units} departments in {summary.institutions} institutions.")
    click.echo("By type: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.by_type.items())))
