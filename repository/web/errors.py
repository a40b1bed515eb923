"""HTML error pages for domain errors; the API and OAI-PMH surfaces register their own."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

from repository.errors import Conflict, Gone, Invalid, NotFound, PermissionDenied
from repository.services.records import get_tombstone
from repository.web.context import read_model


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):  # type: ignore[no-untyped-def]
        return render_template("errors/error.html", status=404, title="Not found", message=str(exc)), 404

    @app.errorhandler(PermissionDenied)
    def _forbidden(exc: PermissionDenied):  # type: ignore[no-untyped-def]
        return render_template("errors/error.html", status=403, title="Not allowed", message=str(exc)), 403

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):  # type: ignore[no-untyped-def]
        return render_template("errors/error.html", status=409, title="Changed meanwhile", message=str(exc)), 409

    @app.errorhandler(Invalid)
    def _invalid(exc: Invalid):  # type: ignore[no-untyped-def]
        return render_template("errors/error.html", status=400, title="Invalid input", message=str(exc),
                               errors=exc.errors), 400

    @app.errorhandler(Gone)
    def _gone(exc: Gone):  # type: ignore[no-untyped-def]
        pub = read_model(get_tombstone(exc.publication_id))
        return render_template("public/tombstone.html", pub=pub, reason=str(exc)), 410

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        if request.path.startswith(("/api/", "/oai")):
            return exc
        return render_template("errors/error.html", status=exc.code, title=exc.name,
                               message=exc.description), exc.code or 500
