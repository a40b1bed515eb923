"""``flask --app wsgi files verify``: the fixity check of the file store against the database."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from repository.db import session
from repository.services import fixity
from repository.storage import FileStore, format_size

files_cli = AppGroup("files", help="The stored files: fixity checks.")


@files_cli.command("verify")
@click.option("--quiet", is_flag=True, help="Print only the problems and the summary.")
def verify(quiet: bool) -> None:
    """Re-hash every stored file; report missing, changed and orphan blobs.

    Exits with status 1 when a file is missing or changed (bytes were lost), 0 otherwise:
    orphan blobs (bytes no record uses, e.g. left by a failed upload) are reported but harmless.
    """
    store = FileStore(current_app.config["FILES_ROOT"])
    plan = fixity.plan(store)
    click.echo(f"Checking {plan.files} files in {len(plan.blobs)} blobs ({format_size(plan.total_bytes)}) "
               f"under {store.root}.")
    with click.progressbar(length=max(plan.total_bytes, 1), label="Re-hashing", file=sys.stderr,
                           hidden=quiet) as bar:
        report = fixity.verify(store, plan, progress=bar.update)
    for problem in report.missing:
        click.echo(f"MISSING  {problem.sha256}  files {_ids(problem.file_ids)}  expected {problem.expected_size} bytes")
    for problem in report.changed:
        click.echo(f"CHANGED  {problem.sha256}  files {_ids(problem.file_ids)}  now sha256 {problem.actual_sha256}, "
                   f"{problem.actual_size} bytes")
    for sha in report.orphans:
        click.echo(f"ORPHAN   {sha}  no file record uses it")
    for path in report.leftovers:
        click.echo(f"LEFTOVER {path.name}  a temporary file of an upload that never finished")
    click.echo(f"{report.checked} blobs checked, {len(report.missing)} missing, {len(report.changed)} changed, "
               f"{len(report.orphans)} orphan, {len(report.leftovers)} leftover temporary files.")
    session.close()
    if report.missing or report.changed:
        raise SystemExit(1)


def _ids(ids: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in ids)
