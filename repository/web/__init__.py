"""Blueprints of the web face: each parses a request, calls a service and renders."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from repository.web import errors, public

    app.register_blueprint(public.bp)
    errors.init_app(app)
