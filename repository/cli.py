"""Command-line groups of ``flask --app wsgi``: db, users, demo (and those other packages register)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from alembic import command
from flask import Flask, current_app
from flask.cli import AppGroup

from repository import migrate

db_cli = AppGroup("db", help="Database schema migrations (Alembic).")


def _url() -> str:
    return current_app.config["DATABASE_URL"]


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    migrate.upgrade(_url(), revision)
    click.echo(f"Database at {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1 or base)."""
    migrate.downgrade(_url(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration from the difference between the models and the database."""
    command.revision(migrate.alembic_config(_url()), message=message, autogenerate=autogenerate)


@db_cli.command("check")
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    migrate.check(_url())
    click.echo("Models and migrations agree.")


@db_cli.command("current")
def db_current() -> None:
    command.current(migrate.alembic_config(_url()))


def init_app(app: Flask) -> None:
    from harvest.cli import harvest_cli
    from repository import cli_demo, cli_files, cli_oai, cli_search, cli_users

    for group in (db_cli, cli_users.users_cli, cli_demo.demo_cli, cli_files.files_cli, cli_search.search_cli,
                  cli_oai.oai_cli, harvest_cli):
        app.cli.add_command(group)
