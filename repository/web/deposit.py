"""The deposit pages: "My publications", a new draft, the steps (metadata, contributors, files, licence, confirm), imports.

Each step is a plain HTML form that works without JavaScript; each POST saves the draft, so a
depositor can stop after any step and resume from "My publications".
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from exports import quality
from repository.errors import Invalid
from repository.models import Publication, User
from repository.schemas.record import publication_data
from repository.services import authorities, deposit, duplicates, files, imports, records
from repository.web import deposit_form as forms
from repository.web.context import read_model, site

bp = Blueprint("deposit", __name__, url_prefix="/deposit")

STEPS = (("metadata", "Description"), ("contributors", "Contributors"), ("files", "Files"),
         ("licence", "Licence"), ("confirm", "Check and submit"))


STATE_LABELS = {"draft": "Draft", "submitted": "Submitted for review", "returned": "Returned to you",
                "published": "Published", "withdrawn": "Withdrawn", "deleted": "Rejected or deleted"}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"state_labels": STATE_LABELS}


@bp.before_request
@login_required
def _logged_in() -> None:
    """Every deposit page needs an account; Flask-Login sends others to the login page."""


def _actor() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def _urn_prefix() -> str:
    return current_app.config["URN_NBN_PREFIX"]


def _timezone() -> str:
    return current_app.config["TIMEZONE"]


def _version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        raise Invalid({"version": ["the form is incomplete; reload the page and try again"]}) from None


def _step_url(pub: Publication, step: str) -> str:
    return url_for(f"deposit.{step}", publication_id=pub.id)


def _next(pub: Publication, step: str) -> Response:
    """After saving: the next step on "Save and continue", the same step on "Save"."""
    names = [name for name, _ in STEPS]
    if request.form.get("go") == "next" and step in names[:-1]:
        return redirect(_step_url(pub, names[names.index(step) + 1]))
    flash("Saved.")
    return redirect(_step_url(pub, step))


def _page(template: str, pub: Publication, step: str, status: int = 200, **context: Any) -> tuple[str, int]:
    returned = deposit.last_comment(pub.id, "return") if pub.state == "returned" else None
    return render_template(template, record=pub, pub=read_model(pub), steps=STEPS, step=step,
                           returned=returned, **context), status


def _problems(pub: Publication) -> quality.Verdict:
    return deposit.preflight(pub, site(), _urn_prefix())


@bp.get("/")
def mine() -> str:
    state = request.args.get("state") or None
    pubs = deposit.my_publications(_actor(), state=state)
    return render_template("deposit/mine.html", publications=[(p, read_model(p)) for p in pubs], state=state)


@bp.route("/new", methods=["GET", "POST"])
def new() -> Any:
    """The first step: type, title and year make a draft (and let duplicates be found)."""
    errors: dict[str, list[str]] = {}
    candidates: list[duplicates.Candidate] = []
    form = request.form
    if request.method == "POST":
        data: dict[str, Any] = {"publication_type": form.get("publication_type", ""),
                                "titles": [{"title": form.get("title", ""), "kind": "main"}],
                                "issued": form.get("issued") or None}
        if form.get("doi", "").strip():
            data["identifiers"] = [{"scheme": "doi", "value": form["doi"]}]
        if data["publication_type"] in ("dok", "lic"):
            data["thesis"] = {"level": "doctoral" if data["publication_type"] == "dok" else "licentiate"}
        elif data["publication_type"] == "stud":
            data["thesis"] = {"level": "bachelor"}
        try:
            pub = deposit.create_draft(_actor(), data, allow_duplicates=form.get("allow_duplicate") == "1")
        except duplicates.PossibleDuplicates as exc:
            candidates = exc.candidates
        except Invalid as exc:
            errors = {_start_field(path): msgs for path, msgs in exc.errors.items()}
        else:
            flash("Draft saved. Continue with the description.")
            return redirect(_step_url(pub, "metadata"))
    status = 400 if errors else 409 if candidates else 200
    return render_template("deposit/new.html", types=forms.TYPE_CHOICES, errors=errors, candidates=candidates,
                           form=form, doi_enabled=imports.lookup_available()), status


def _start_field(path: str) -> str:
    return {"titles": "title", "titles[0].title": "title", "identifiers[0].value": "doi"}.get(path, path)


@bp.get("/<int:publication_id>")
def resume(publication_id: int) -> Response:
    pub = records.get_publication(_actor(), publication_id)
    if pub.state in deposit.EDITABLE_STATES or _actor().is_editor:
        return redirect(_step_url(pub, "metadata"))
    return redirect(url_for("public.publication", publication_id=pub.id))


@bp.route("/<int:publication_id>/metadata", methods=["GET", "POST"])
def metadata(publication_id: int) -> Any:
    pub = deposit.get_draft(_actor(), publication_id)
    kind = request.form.get("publication_type", pub.publication_type) if request.method == "POST" else pub.publication_type
    if kind not in forms.BY_TYPE:
        kind = pub.publication_type
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    values = forms.form_values(publication_data(pub), kind, _timezone())
    if request.method == "POST":
        current = publication_data(pub)
        parsed = forms.parse_metadata(request.form, kind, current, _timezone())
        changes = {"publication_type": kind, **parsed.changes}
        if kind in ("dok", "lic") and not changes.get("thesis"):
            changes["thesis"] = {"level": "doctoral" if kind == "dok" else "licentiate"}
        if request.form.get("retype") == "1":  # only the type changed: show the new type's fields
            values = forms.form_values({**current, **{k: v for k, v in changes.items() if v}}, kind, _timezone())
        else:
            try:
                pub = deposit.update_draft(_actor(), publication_id, changes, _version())
            except Invalid as exc:
                errors, general = forms.errors_by_field(exc.errors, kind, parsed.field_of_error)
                values = {path: request.form.get(path, "") for path in values}
            else:
                return _next(pub, "metadata")
    verdict = _problems(pub)
    by_path: dict[str, list[str]] = {}
    for p in verdict.problems:
        if p.severity != "info" and p.code != "09" and _step_of(p.path) == "metadata":
            by_path.setdefault(p.path, []).append(p.message)
    advice, advice_general = forms.errors_by_field(by_path, kind, forms.identifier_routes(pub.identifiers))
    return _page("deposit/metadata.html", pub, "metadata", 400 if errors else 200, kind=kind,
                 sections=forms.sections(kind), types=forms.TYPE_CHOICES, values=values, errors=errors,
                 general=general, advice=advice, advice_general=advice_general)


@bp.route("/<int:publication_id>/contributors", methods=["GET", "POST"])
def contributors(publication_id: int) -> Any:
    pub = deposit.get_draft(_actor(), publication_id)
    errors: dict[str, list[str]] = {}
    form = request.form
    if request.method == "POST":
        action = form.get("action", "")
        try:
            pub = _contributor_action(pub, action)
        except Invalid as exc:
            errors = exc.errors
        else:
            if action == "continue":
                return redirect(_step_url(pub, "files"))
            flash("Contributors saved.")
            return redirect(_step_url(pub, "contributors"))
    query = request.args.get("q", "").strip()
    found = authorities.search_persons(query) if query else []
    unit_query = request.args.get("unit_q", "").strip()
    verdict = _problems(pub)
    advice = [p.message for p in verdict.problems if p.path.startswith("contributors") and p.severity != "info"]
    return _page("deposit/contributors.html", pub, "contributors", 400 if errors else 200, query=query, found=found,
                 roles=forms.role_choices(pub.publication_type), units=_units(unit_query), unit_query=unit_query,
                 errors=errors, form=form, advice=advice)


def _units(query: str) -> list[Any]:
    """The units offered as affiliations: those matching the typed words, or all of the actor's institution."""
    institution_id = _actor().institution_id
    return authorities.search_units(query, institution_id) if query else authorities.units_of(institution_id)


def _contributor_action(pub: Publication, action: str) -> Publication:
    form = request.form
    version = _version()
    role = form.get("role") or "aut"
    if action == "add-person":
        person_id = form.get("person_id", "")
        if not person_id.isdigit():
            raise Invalid({"person_id": ["choose a person from the search results"]})
        item: dict[str, Any] = {"person_id": int(person_id), "roles": [role]}
        unit_id = form.get("org_unit_id", "")
        item["affiliations"] = [{"org_unit_id": int(unit_id)}] if unit_id.isdigit() else []
        return deposit.add_contributor(_actor(), pub.id, item, version)
    if action == "add-external":
        affiliation = form.get("affiliation", "").strip()
        item = {"family": form.get("family"), "given": form.get("given"), "orcid": form.get("orcid") or None,
                "roles": [role],
                "affiliations": [{"name": affiliation, "country": (form.get("country") or "").upper() or None}]
                if affiliation else []}
        try:
            return deposit.add_contributor(_actor(), pub.id, item, version)
        except Invalid as exc:  # the new contributor is the last one: name its fields as the form does
            prefix = f"contributors[{len(pub.contributors)}]."
            raise Invalid({path.removeprefix(prefix).replace("affiliations[0].", ""): msgs
                           for path, msgs in exc.errors.items()}) from None
    index = form.get("index", "")
    if not index.isdigit():
        if action == "continue":
            return pub
        raise Invalid({"action": ["unknown action; reload the page"]})
    if action == "remove":
        return deposit.remove_contributor(_actor(), pub.id, int(index), version)
    if action in ("up", "down"):
        return deposit.move_contributor(_actor(), pub.id, int(index), -1 if action == "up" else 1, version)
    raise Invalid({"action": ["unknown action; reload the page"]})


@bp.get("/search/persons")
def search_persons() -> str:
    """Matching authority records as an HTML fragment, for the optional search-as-you-type script."""
    query = request.args.get("q", "").strip()
    publication_id = request.args.get("publication", type=int)
    pub = deposit.get_draft(_actor(), publication_id) if publication_id else None
    unit_query = request.args.get("unit_q", "").strip()
    return render_template("deposit/_person_results.html", found=authorities.search_persons(query) if query else [],
                           query=query, record=pub, roles=forms.role_choices(pub.publication_type if pub else "art"),
                           units=_units(unit_query), unit_query=unit_query)


@bp.get("/<int:publication_id>/files", endpoint="files")
def files_step(publication_id: int) -> Any:
    """The upload form posts to the files endpoint, which streams the file into the store and comes back here."""
    pub = deposit.get_draft(_actor(), publication_id)
    return _page("deposit/files.html", pub, "files", max_bytes=files.max_upload_bytes())


@bp.route("/<int:publication_id>/licence", methods=["GET", "POST"])
def licence(publication_id: int) -> Any:
    pub = deposit.get_draft(_actor(), publication_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        chosen = request.form.get("licence", "")
        if chosen not in {value for value, _ in forms.LICENCES}:
            errors = {"licence": ["choose one of the licences listed"]}
        else:
            try:
                pub = deposit.update_draft(_actor(), publication_id, {"licence": chosen or None}, _version())
            except Invalid as exc:
                errors = exc.errors
            else:
                return _next(pub, "licence")
    return _page("deposit/licence.html", pub, "licence", 400 if errors else 200, licences=forms.LICENCES,
                 errors=errors)


@bp.route("/<int:publication_id>/confirm", methods=["GET", "POST"])
def confirm(publication_id: int) -> Any:
    pub = deposit.get_draft(_actor(), publication_id)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            pub = deposit.submit(_actor(), publication_id, site(), _urn_prefix(), comment=request.form.get("comment"))
        except Invalid as exc:
            errors = exc.errors
        else:
            if pub.state == "submitted":
                flash("Thank you: your publication was submitted. An editor will review it; you will get an e-mail.")
            return redirect(url_for("deposit.mine"))
    verdict = _problems(pub)
    blocking = deposit.blocking_problems(verdict)
    advice = [p for p in verdict.problems if p not in blocking and p.severity in ("warning", "error")]
    return _page("deposit/confirm.html", pub, "confirm", 400 if errors else 200, blocking=blocking, advice=advice,
                 errors=errors, step_of=_step_of, duplicates=duplicates.find_for_record(_actor(), pub))


def _step_of(path: str) -> str:
    """The step where a problem with ``path`` is fixed."""
    if path.startswith("contributors"):
        return "contributors"
    if path.startswith("files"):
        return "files"
    if path.startswith("licence"):
        return "licence"
    return "metadata"


@bp.post("/import/doi")
def import_doi() -> Any:
    """Prefill a draft from a DOI's CSL-JSON (when look-ups are enabled)."""
    doi = request.form.get("doi", "")
    try:
        entry = imports.lookup_doi(doi)
        pub = imports.create_from_entry(_actor(), entry, allow_duplicates=request.form.get("allow_duplicate") == "1")
    except duplicates.PossibleDuplicates as exc:
        return render_template("deposit/new.html", types=forms.TYPE_CHOICES, errors={}, candidates=exc.candidates,
                               form={"doi": doi}, doi_enabled=True, from_doi=True), 409
    except Invalid as exc:
        return render_template("deposit/new.html", types=forms.TYPE_CHOICES, candidates=[], form={"doi": doi},
                               doi_enabled=imports.lookup_available(),
                               errors={"doi": [f"{k}: {' '.join(v)}" if k != "doi" else " ".join(v)
                                               for k, v in exc.errors.items()]}), 400
    flash(f"Filled in from {entry.source}. Check every field before you submit.")
    for problem in entry.problems:
        flash(f"Not taken over: {problem}")
    return redirect(_step_url(pub, "metadata"))


@bp.post("/import/file")
def import_file() -> Any:
    """Many drafts from a BibTeX or RIS file; each entry's outcome is listed."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("deposit/new.html", types=forms.TYPE_CHOICES, candidates=[], form={},
                               doi_enabled=imports.lookup_available(),
                               errors={"file": ["choose a BibTeX (.bib) or RIS (.ris) file"]}), 400
    try:
        results = imports.import_file(_actor(), upload.stream.read(imports.MAX_IMPORT_BYTES + 1), upload.filename,
                                      allow_duplicates=request.form.get("allow_duplicate") == "1")
    except Invalid as exc:
        return render_template("deposit/new.html", types=forms.TYPE_CHOICES, candidates=[], form={},
                               doi_enabled=imports.lookup_available(),
                               errors={"file": [m for msgs in exc.errors.values() for m in msgs]}), 400
    return render_template("deposit/import_results.html", results=results, filename=upload.filename)
