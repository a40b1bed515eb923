"""Settings from environment variables, each with one name, one default and one place where it is read."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any


def _secret_key(instance_path: Path) -> str:
    """The session-signing key: SECRET_KEY, or one generated once and kept in the instance folder.

    A constant in the code would let anyone who reads the source forge sessions.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def settings_from_environment(instance_path: Path) -> dict[str, Any]:
    """The application's configuration as Flask keys, read from the environment once at start-up."""
    env = os.environ.get
    return {
        "DATABASE_URL": env("DATABASE_URL") or f"sqlite:///{instance_path / 'hylla.sqlite3'}",
        "SECRET_KEY": _secret_key(instance_path),
        "FILES_ROOT": env("FILES_ROOT") or str(instance_path / "files"),
        "SEARCH_URL": env("SEARCH_URL", ""),
        "BASE_URL": (env("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        "REPOSITORY_NAME": env("REPOSITORY_NAME", "Hylla"),
        "ADMIN_EMAIL": env("ADMIN_EMAIL", "admin@example.org"),
        "OAI_ID_NAMESPACE": env("OAI_ID_NAMESPACE", "hylla.example.org"),
        # OAI-PMH page sizes, as given (repository/oai/settings.py checks them: whole numbers, 1 to 10000).
        "OAI_PAGE_SIZE_RECORDS": env("OAI_PAGE_SIZE_RECORDS", "100"),
        "OAI_PAGE_SIZE_IDENTIFIERS": env("OAI_PAGE_SIZE_IDENTIFIERS", "250"),
        "URN_NBN_PREFIX": env("URN_NBN_PREFIX", "urn:nbn:se"),
        "MAX_UPLOAD_BYTES": int(env("MAX_UPLOAD_BYTES", str(2 * 1024**3))),
        "SQL_ECHO": env("SQL_ECHO", "") == "1",
        # E-mail: sent through this SMTP server when SMTP_HOST is set, otherwise only written to the log.
        "SMTP_HOST": env("SMTP_HOST", ""),
        "SMTP_PORT": int(env("SMTP_PORT", "587")),
        "SMTP_USERNAME": env("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": env("SMTP_STARTTLS", "1") == "1",
        "MAIL_FROM": env("MAIL_FROM") or env("ADMIN_EMAIL", "admin@example.org"),
        # DOI look-up by content negotiation: off unless asked for, since it calls out to doi.org.
        "DOI_LOOKUP_ENABLED": env("DOI_LOOKUP_ENABLED", "") == "1",
        "DOI_RESOLVER_URL": (env("DOI_RESOLVER_URL") or "https://doi.org").rstrip("/"),
        # The zone in which a nailing date starts (a thesis becomes public at local midnight).
        "TIMEZONE": env("TIMEZONE", "Europe/Stockholm"),
    }
