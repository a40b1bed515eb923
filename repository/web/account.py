"""Account pages: asking for a password-reset link and choosing a new password with it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from repository.errors import Invalid
from repository.services import password_reset

bp = Blueprint("account", __name__, url_prefix="/account")

SENT_MESSAGE = ("If an account uses that address, we have sent it a link to choose a new password. "
                "The link works for one hour.")


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> Any:
    """The same answer whether or not the address has an account: no account enumeration."""
    if request.method == "POST":
        email = request.form.get("email", "").strip()
        if "@" not in email:
            return render_template("account/reset_request.html", errors={"email": ["enter your e-mail address"]},
                                   email=email), 400
        password_reset.request_reset(email, base_url=current_app.config["BASE_URL"],
                                     repository_name=current_app.config["REPOSITORY_NAME"])
        return render_template("account/reset_request.html", sent=SENT_MESSAGE, errors={}, email="")
    return render_template("account/reset_request.html", errors={}, email="")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    if password_reset.valid_token(token) is None:
        return render_template("account/reset_invalid.html"), 404
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            password_reset.reset_password(token, request.form.get("password", ""),
                                          request.form.get("confirmation", ""))
        except Invalid as exc:
            errors = exc.errors
        else:
            flash("Your password has been changed. Log in with the new one.")
            return redirect(url_for("public.login"))
    return render_template("account/reset_form.html", errors=errors), 400 if errors else 200
