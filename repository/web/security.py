"""Browser-facing security in one place: response headers, session cookie settings and login throttling.

One after_request hook sets the headers on every response, so no page can forget them; the
login view is wrapped rather than edited, so the throttle sees every attempt before a password
is checked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, make_response, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from repository.services import throttle

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
LOCKED_MESSAGE = ("Too many failed attempts to log in. Wait 15 minutes and try again, "
                  "or ask for a new password at /account/reset.")
LOGIN_ENDPOINT = "public.login"


def _set_headers(response: Response) -> Response:
    """Every response gets the headers; the Content-Security-Policy goes on pages only.

    A policy on a downloaded PDF would govern the browser's own PDF viewer, which some browsers
    then refuse to run; files that could carry script are served as attachments anyway.
    """
    for name, value in HEADERS.items():
        if name != "Content-Security-Policy" or response.mimetype in ("text/html", "application/xhtml+xml"):
            response.headers.setdefault(name, value)
    if request.is_secure or request.headers.get("X-Forwarded-Proto") == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def client_address() -> str:
    return request.remote_addr or "unknown"


def throttled(view: Callable[..., Any]) -> Callable[..., Any]:
    """The login view behind the throttle: refuse while locked, count failures, clear on success."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST":
            return view(*args, **kwargs)
        email = request.form.get("email", "")
        if throttle.is_locked(email, client_address()):
            return render_template("public/login.html", error=LOCKED_MESSAGE), 429
        response = make_response(view(*args, **kwargs))
        if current_user.is_authenticated:
            throttle.clear(email)
        elif response.status_code == 401:
            throttle.record_failure(email, client_address())
        return response

    return wrapper


def init_app(app: Flask) -> None:
    # Cookies: never sent over plain HTTP when the site is HTTPS, never readable by scripts, and
    # not sent along with cross-site POSTs (a second line behind the CSRF tokens).
    secure = app.config["BASE_URL"].startswith("https://")
    app.config.update(
        SESSION_COOKIE_SECURE=secure, SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure, REMEMBER_COOKIE_HTTPONLY=True, REMEMBER_COOKIE_SAMESITE="Lax",
    )
    app.after_request(_set_headers)
    if LOGIN_ENDPOINT in app.view_functions:
        app.view_functions[LOGIN_ENDPOINT] = throttled(app.view_functions[LOGIN_ENDPOINT])
