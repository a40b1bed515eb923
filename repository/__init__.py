"""Hylla's repository application: ``create_app`` wires configuration, extensions, blueprints and CLI."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from repository import db
from repository.config import settings_from_environment

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build an application; ``config`` overrides the environment (tests pass their own)."""
    instance_path = Path((config or {}).get("INSTANCE_PATH") or PROJECT_ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "templates" / "static"),
    )
    instance_path.mkdir(parents=True, exist_ok=True)
    app.config.update(settings_from_environment(instance_path))
    if config:
        app.config.update(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    db.init_app(app)

    from repository import auth, cli, search, web

    search.init_app(app)  # every commit, from a request or a command, keeps the index in step
    auth.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app
