"""Blueprints of the web face: each parses a request, calls a service and renders."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    from repository.web import context, errors, public
    from repository.web import exports as exports_web
    from repository.web import files, landing

    csrf.init_app(app)
    # Strings in templates go through gettext so a Swedish catalogue can be added without edits.
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    context.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(landing.bp)
    app.register_blueprint(exports_web.bp)
    errors.init_app(app)
    from repository.web import account, api, deposit, review, security

    app.register_blueprint(api.bp)
    app.register_blueprint(deposit.bp)
    app.register_blueprint(review.bp)
    app.register_blueprint(account.bp)
    review.init_app(app)
    security.init_app(app)
    from repository.web import oai

    app.register_blueprint(oai.bp)
    csrf.exempt(oai.bp)  # harvesters POST without CSRF tokens
    from repository.web import search as search_web

    search_web.init_app(app)  # the search pages, and the index hooks every commit needs
    from harvest import web as national_web

    app.register_blueprint(national_web.bp)  # the national bibliography at /national
