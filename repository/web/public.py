"""The public face: home page, publication landing pages, people, organisation units, login."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import login_required, login_user, logout_user

from repository.auth import acting_user
from repository.services import browse, records, users
from repository.services.readmodel import today_utc
from repository.web.context import read_model
from repository.web.exports import negotiated

bp = Blueprint("public", __name__)



@bp.get("/")
def home() -> str:
    recent = [read_model(p) for p in records.recent_publications(20)]
    return render_template("public/home.html", recent=recent, institutions=browse.institutions())


@bp.get("/publications/<int:publication_id>")
def publication(publication_id: int) -> Response:
    pub = records.get_publication(acting_user(), publication_id)
    model = read_model(pub)
    # DOI-style content negotiation: Accept: application/x-bibtex (and others) answers in that format.
    return negotiated(model, lambda: render_template("public/publication.html", pub=model, record=pub,
                                                     today=today_utc()))


@bp.get("/persons/<int:person_id>")
def person(person_id: int) -> str:
    found = browse.get_person(person_id)
    listing = browse.person_publications(found)
    return render_template("public/person.html", person=found, total=listing.total,
                           publications=[read_model(p) for p in listing.publications])


@bp.get("/units/<int:unit_id>")
def unit(unit_id: int) -> str:
    found = browse.get_unit(unit_id)
    listing = browse.unit_publications(found)
    return render_template("public/unit.html", unit=found, ancestors=browse.unit_ancestors(found),
                           children=browse.unit_children(found), total=listing.total,
                           publications=[read_model(p) for p in listing.publications])


@bp.get("/institutions/<code>")
def institution(code: str) -> str:
    found = browse.get_institution(code)
    listing = browse.institution_publications(found, limit=20)
    return render_template("public/institution.html", institution=found, units=browse.institution_units(found),
                           total=listing.total, publications=[read_model(p) for p in listing.publications])


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    error = None
    if request.method == "POST":
        user = users.authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user is not None:
            login_user(user)
            target = request.args.get("next", "")
            # Only local paths: an open redirect would let a phishing link borrow our login page.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("public.home")
            return redirect(target)
        error = "The e-mail address or the password is not right."
    return render_template("public/login.html", error=error), 200 if error is None else 401


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("public.home"))
