"""The editors' pages: the review queue with filters, a submission with its SwePub preflight, and the decisions.

Editing a submission uses the deposit step forms (editors may edit any field); this blueprint
only shows and decides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from repository.errors import Invalid, PermissionDenied
from repository.models import Publication, User, utcnow
from repository.permissions import can
from repository.services import announcement, authorities, deposit, duplicates, records, review
from repository.web.context import read_model, site
from repository.web.deposit_form import TYPE_CHOICES

bp = Blueprint("review", __name__, url_prefix="/review")

ACTION_LABELS = {"create": "Created", "update": "Edited", "submit": "Submitted", "return": "Returned to the submitter",
                 "resubmit": "Submitted again", "publish": "Published", "reject": "Rejected", "withdraw": "Withdrawn",
                 "delete": "Deleted", "restore": "Restored", "import": "Imported"}


@bp.before_request
@login_required
def _editors_only() -> None:
    if not _actor().is_editor:
        raise PermissionDenied("the review pages are for editors")


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _config(name: str) -> Any:
    return current_app.config[name]


def _int_arg(name: str, label: str) -> int | None:
    text = request.args.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise Invalid({name: [f"{label} must be a whole number"]})
    return int(text)


@bp.get("/")
def queue() -> Any:
    errors: dict[str, list[str]] = {}
    items: list[review.QueueItem] = []
    kind = request.args.get("type") or None
    try:
        unit_id = _int_arg("unit", "the organisation unit")
        age = _int_arg("age", "the age")
        items = review.queue(_actor(), publication_type=kind, unit_id=unit_id, min_age_days=age)
    except Invalid as exc:
        errors = exc.errors
    now = utcnow()
    return render_template("review/queue.html", items=[(i, read_model(i.publication), i.age_days(now)) for i in items],
                           types=TYPE_CHOICES, units=authorities.units_of(_actor().institution_id), errors=errors,
                           args=request.args), 400 if errors else 200


@bp.get("/<int:publication_id>")
def submission(publication_id: int) -> str:
    pub = records.get_publication(_actor(), publication_id)
    if not can(_actor(), "review", pub):
        raise PermissionDenied("only an editor of the record's institution reviews it")
    verdict = deposit.preflight(pub, site(), _config("URN_NBN_PREFIX"))
    scheduled_day = pub.thesis.nailing_date if pub.thesis is not None and pub.publication_type == "dok" else None
    return render_template("review/submission.html", record=pub, pub=read_model(pub), verdict=verdict,
                           history=review.history(_actor(), pub.id), duplicates=duplicates.find_for_record(_actor(), pub),
                           scheduled_day=scheduled_day, today=utcnow().date(), errors={})


def _decided(pub: Publication, message: str) -> Response:
    flash(message)
    return redirect(url_for("review.queue"))


def _retry(publication_id: int, exc: Invalid) -> tuple[str, int]:
    pub = records.get_publication(_actor(), publication_id)
    verdict = deposit.preflight(pub, site(), _config("URN_NBN_PREFIX"))
    return render_template("review/submission.html", record=pub, pub=read_model(pub), verdict=verdict,
                           history=review.history(_actor(), pub.id), duplicates=duplicates.find_for_record(_actor(), pub),
                           scheduled_day=None, today=utcnow().date(), errors=exc.errors, form=request.form), 400


@bp.post("/<int:publication_id>/publish")
def publish(publication_id: int) -> Any:
    day_text = request.form.get("public_from", "").strip()
    try:
        day = dt.date.fromisoformat(day_text) if day_text else None
    except ValueError:
        return _retry(publication_id, Invalid({"public_from": [f"{day_text!r} is not a date of the form YYYY-MM-DD"]}))
    pub = review.publish(_actor(), publication_id, urn_prefix=_config("URN_NBN_PREFIX"), base_url=_config("BASE_URL"),
                         timezone=_config("TIMEZONE"), comment=request.form.get("comment"), public_from=day)
    if pub.public_from is not None:
        return _decided(pub, f"Approved: “{pub.main_title}” becomes public on {pub.public_from.date().isoformat()}.")
    return _decided(pub, f"Published: “{pub.main_title}”.")


@bp.post("/<int:publication_id>/return")
def return_(publication_id: int) -> Any:
    try:
        pub = review.return_to_submitter(_actor(), publication_id, request.form.get("comment"),
                                         base_url=_config("BASE_URL"))
    except Invalid as exc:
        return _retry(publication_id, exc)
    return _decided(pub, f"Returned to the submitter: “{pub.main_title}”.")


@bp.post("/<int:publication_id>/reject")
def reject(publication_id: int) -> Any:
    try:
        pub = review.reject(_actor(), publication_id, request.form.get("comment"), base_url=_config("BASE_URL"))
    except Invalid as exc:
        return _retry(publication_id, exc)
    return _decided(pub, f"Rejected: “{pub.main_title}”.")


@bp.post("/<int:publication_id>/withdraw")
def withdraw(publication_id: int) -> Any:
    try:
        pub = review.withdraw(_actor(), publication_id, request.form.get("comment"), base_url=_config("BASE_URL"))
    except Invalid as exc:
        return _retry(publication_id, exc)
    flash(f"Withdrawn: “{pub.main_title}”. Its page now shows the reason.")
    return redirect(url_for("public.publication", publication_id=pub.id))


@bp.get("/<int:publication_id>/announcement.pdf")
def announcement_sheet(publication_id: int) -> Response:
    pub = records.get_publication(_actor(), publication_id)
    if not can(_actor(), "review", pub):
        raise PermissionDenied("only an editor of the record's institution prints its announcement")
    if pub.thesis is None or pub.thesis.level not in ("doctoral", "licentiate"):
        abort(404, "announcement sheets are made for doctoral and licentiate theses")
    model = deposit.as_published(pub, site(), _config("URN_NBN_PREFIX"))
    pdf = announcement.render(model, repository_name=_config("REPOSITORY_NAME"))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="announcement-{pub.id}.pdf"'})


def init_app(app: Flask) -> None:
    """The record's workflow history on its landing page, for those allowed to see it."""

    @app.context_processor
    def _history() -> dict[str, Any]:
        def workflow_history(record: Publication) -> list[Any]:
            user = current_user if current_user.is_authenticated else None
            return review.history(user, record.id) if user is not None else []
        return {"workflow_history": workflow_history, "action_labels": ACTION_LABELS}
