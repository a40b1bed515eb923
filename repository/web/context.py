"""What every page's template needs: the site settings and the bridge to the read model."""

from __future__ import annotations

from flask import Flask, current_app

from exports import readmodel as rm
from exports import vocabularies
from repository.models import Publication
from repository.schemas.publication import ROLE_LABELS
from repository.services.readmodel import Site, to_read_model

TYPE_LABELS = {
    "art": "Journal article", "for": "Review article", "kon": "Conference paper", "pro": "Conference proceedings",
    "bok": "Book", "sam": "Edited book", "kap": "Book chapter", "rap": "Report", "rec": "Book review",
    "dok": "Doctoral thesis", "lic": "Licentiate thesis", "pat": "Patent", "kfu": "Artistic work",
    "ovr": "Other publication", "stud": "Student thesis",
}
CONTENT_LABELS = {"ref": "Refereed", "vet": "Other academic", "pop": "Popular science, debate"}
LEVEL_LABELS = {
    "doctoral": "Doctoral thesis", "licentiate": "Licentiate thesis", "bachelor": "Bachelor's thesis",
    "master-one-year": "Master's thesis (one year)", "master-two-years": "Master's thesis (two years)",
    "professional": "Professional degree thesis",
}
STATUS_LABELS = {
    "published": "Published", "accepted": "Accepted", "submitted": "Submitted", "in-press": "In press",
    "epub-ahead-of-print": "Epub ahead of print", "preprint": "Preprint", "retracted": "Retracted",
}


def site() -> Site:
    cfg = current_app.config
    return Site(cfg["BASE_URL"], cfg["OAI_ID_NAMESPACE"])


def read_model(pub: Publication) -> rm.Publication:
    return to_read_model(pub, site())


def init_app(app: Flask) -> None:
    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "repository_name": current_app.config["REPOSITORY_NAME"],
            "type_labels": TYPE_LABELS,
            "content_labels": CONTENT_LABELS,
            "level_labels": LEVEL_LABELS,
            "status_labels": STATUS_LABELS,
            "role_labels": ROLE_LABELS,
            "language_name": vocabularies.language_name,
        }
