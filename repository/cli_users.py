"""``flask users``: accounts from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from repository.errors import Conflict, Invalid, NotFound
from repository.services import tokens, users

users_cli = AppGroup("users", help="User accounts.")

DEMO_PASSWORD = "hylla-demo-editor"


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["submitter", "editor", "administrator"]), default="submitter", show_default=True)
@click.option("--institution", "institution_code", help="Institution code (default: the first one).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the password from this file instead of asking.")
@click.option("--demo", is_flag=True, help=f"Demo account with the password {DEMO_PASSWORD!r}; no error if it exists.")
def create(email: str, role: str, institution_code: str | None, password_file: Path | None, demo: bool) -> None:
    """Create a user account with EMAIL and ROLE; the password is asked for unless given in a file."""
    if demo:
        password = DEMO_PASSWORD
    elif password_file is not None:
        password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(email, password, role, institution_code=institution_code)
    except Conflict as exc:
        if demo:
            click.echo(f"Demo login: {email} / {DEMO_PASSWORD}")
            return
        raise click.ClickException(str(exc)) from None
    except Invalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {role} {user.email} (user {user.id}).")
    if demo:
        click.echo(f"Demo login: {email} / {DEMO_PASSWORD}")


@users_cli.command("token")
@click.argument("email")
@click.option("--name", help="What the token is for, e.g. the script's name.")
def token(email: str, name: str | None) -> None:
    """Issue an API token for the account EMAIL; it is shown once and stored only as a hash."""
    try:
        row, plain = tokens.issue(email, name)
    except (NotFound, Invalid) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Token {row.id} for {email} (send it as 'Authorization: Bearer <token>'; it is not shown again):")
    click.echo(plain)
