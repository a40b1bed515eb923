"""The national bibliography's web face at /national: search with facets, work pages, quality reports, exports, sources.

A thin blueprint over the harvester's core: each view parses the request, calls ``harvest``'s
store, bibliography and quality-report functions, and renders ``templates/national/``. It may use
the repository's web plumbing (the request's database session, Flask-Login's user and its roles,
CSRF protection, the error pages); the core it calls knows nothing of Flask.

Searching works reuses nothing of the repository's search service, on purpose: see
``harvest.bibliography`` for why works are searched with faceted SQL of their own.

Who may do what: anyone reads the bibliography, the work pages and the quality reports (SwePub
publishes them too); administrators split and merge works and manage sources. Every change is a
POST form with a CSRF token, and every page works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from exports.readmodel import Publication
from exports.vocabularies import language_name, subject_labels
from harvest import bibliography, dedup, quality_reports, store, works_export
from harvest.models import METADATA_PREFIXES, HarvestedRecord, HarvestRun, Source, Work
from harvest.records import RecordDecodeError, publication_from_dict
from harvest.schedule import ALIASES
from repository.auth import login_manager
from repository.db import database, session
from repository.errors import NotFound, PermissionDenied
from repository.web.context import CONTENT_LABELS, TYPE_LABELS

bp = Blueprint("national", __name__, url_prefix="/national", static_folder="../templates/national/static",
               static_url_path="/static")

PAGE_SIZE = 20
FACET_TITLES = {"institution": "Institution", "year": "Year", "type": "Publication type", "content": "Content",
                "subject": "Research subject", "oa": "Open access", "language": "Language"}
SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "title": "Title A–Ö"}
PROVENANCE_LABELS = {"titles": "Title", "publication_type": "Publication type", "output_type": "Output type",
                     "content_type": "Content", "issued": "Published", "languages": "Language", "host": "Published in",
                     "publisher": "Publisher", "identifiers": "Identifiers", "subjects": "Research subjects",
                     "abstracts": "Abstract", "contributors": "Contributors"}
SOURCE_FIELDS = ("name", "base_url", "metadata_prefix", "set_spec", "schedule", "institution_code", "contact", "xslt")

View = TypeVar("View", bound=Callable[..., Any])


def admin_only(view: View) -> View:
    """Administrators only: anonymous visitors are sent to log in, others get a 403 page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not current_user.is_admin:
            raise PermissionDenied("only administrators change the national bibliography and its sources")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _is_admin() -> bool:
    return bool(current_user.is_authenticated and current_user.is_admin)


def _who() -> str:
    return str(current_user.email)


def _facet_label(facet: str, value: str) -> str:
    if facet == "type":
        return TYPE_LABELS.get(value, value)
    if facet == "content":
        return CONTENT_LABELS.get(value, value)
    if facet == "subject":
        english, _ = subject_labels(value)
        return f"{value} {english}".strip()
    if facet == "language":
        return language_name(value) or value
    if facet == "oa":
        return "Open access" if value == "true" else "Not open access"
    return value


def _query_from_request() -> bibliography.WorkQuery:
    size = request.args.get("size", str(PAGE_SIZE))
    if not size.isdigit():
        raise bibliography.BibliographyQueryError(f"size={size!r}: a whole number is needed")
    filters = {name: request.args.getlist(name) for name in bibliography.FACETS if name in request.args}
    return bibliography.make_query(request.args.get("q", ""), filters, sort=request.args.get("sort") or None,
                                   size=int(size), cursor=request.args.get("cursor") or None)


def search_url(endpoint: str = "national.search", **changes: Any) -> str:
    """The current search at ``endpoint`` with the query string changed (None removes a parameter)."""
    params: dict[str, list[str]] = {k: request.args.getlist(k) for k in request.args if k != "cursor"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value if isinstance(value, list) else [str(value)]
    query = urlencode(params, doseq=True)
    return url_for(endpoint) + (f"?{query}" if query else "")


def toggle_url(facet: str, value: str) -> str:
    chosen = request.args.getlist(facet)
    kept = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
    return search_url(**{facet: kept or None})


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"national_search_url": search_url, "national_toggle_url": toggle_url, "facet_label": _facet_label,
            "national_admin": _is_admin}


def _publication(data: dict[str, Any] | None) -> Publication | None:
    """A stored record as the read model, or None if it cannot be read back (shown as such, not hidden)."""
    if not data:
        return None
    try:
        return publication_from_dict(data)
    except RecordDecodeError:
        return None


# -- the bibliography ---------------------------------------------------------------------------------

@bp.get("/")
def search() -> Any:
    try:
        query = _query_from_request()
        page = bibliography.search(session, query)
    except bibliography.BibliographyQueryError as exc:
        return render_template("national/search.html", error=str(exc), page=None, hits=[],
                               q=request.args.get("q", "")), 400
    hits = [(work, _publication(work.merged_record)) for work in page.works]
    return render_template("national/search.html", error=None, page=page, hits=hits, query=query,
                           q=request.args.get("q", ""), facet_titles=FACET_TITLES, sort_labels=SORT_LABELS,
                           facets=bibliography.FACETS, sorts=bibliography.SORTS)


@bp.get("/export.jsonl")
def export_jsonl() -> Response:
    return _export("jsonl")


@bp.get("/export.csv")
def export_csv() -> Response:
    return _export("csv")


def _export(fmt: str) -> Response:
    """Every work of the current search (e.g. ``?institution=kth&year=2023``) as JSON lines or CSV, streamed."""
    try:
        where = bibliography.where(_query_from_request())
    except bibliography.BibliographyQueryError as exc:
        return Response(str(exc), status=400, content_type="text/plain; charset=utf-8")
    sessions = database().sessionmaker

    def generate() -> Iterator[str]:
        # A session of its own: the export outlives the request's, and it empties itself batch by batch.
        with sessions() as own:
            lines = (works_export.work_line(work, members) for work, members in store.iter_works(own, where=where))
            yield from (works_export.csv_text(lines) if fmt == "csv" else works_export.jsonl(lines))

    mime = "text/csv" if fmt == "csv" else "application/x-ndjson"
    response = Response(stream_with_context(generate()), content_type=f"{mime}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="national-bibliography.{fmt}"'
    return response


def _provenance_text(field: str, value: Any) -> str:
    """A provenance value as a line of text: titles, codes and names rather than the stored JSON."""
    if field == "titles":
        return " / ".join(": ".join(p for p in (t.get("title"), t.get("subtitle")) if p) for t in value)
    if field == "contributors":
        return "; ".join(value)
    if field == "identifiers":
        return ", ".join(f"{i['scheme']}:{i['value']}" for i in value)
    if field == "subjects":
        return ", ".join(s.get("code", "") for s in value)
    if field == "host":
        return ", ".join(str(value[k]) for k in ("title", "issn", "volume", "issue") if value.get(k))
    if field == "abstracts":
        text = " ".join(a.get("text", "") for a in value)
        return text[:300] + ("…" if len(text) > 300 else "")
    if field == "languages":
        return ", ".join(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _addition_text(item: dict[str, Any]) -> str:
    value = item.get("value")
    if item["field"] == "identifiers" and isinstance(value, dict):
        return f"identifier {value.get('scheme')}:{value.get('value')}"
    if item["field"] == "contributors" and isinstance(value, dict):
        return "contributor " + ", ".join(p for p in (value.get("family"), value.get("given"),
                                                      value.get("corporate_name")) if p)
    if item["field"] == "contributors.affiliations" and isinstance(value, dict):
        return f"affiliation {value.get('name')} for {item.get('person')}"
    if item["field"] == "contributors.orcid":
        return f"ORCID {value} for {item.get('person')}"
    return f"{item['field']} {json.dumps(value, ensure_ascii=False)}"


@bp.get("/works/<int:work_id>")
def work(work_id: int) -> Any:
    return _render_work(work_id)


def _render_work(work_id: int, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    try:
        view = store.work_view(session, work_id)
    except store.SourceError as exc:
        raise NotFound(str(exc)) from None
    provenance = view.work.provenance or {}
    master = provenance.get("master", {}).get("record")
    fields = [(PROVENANCE_LABELS.get(name, name), [(item["source"], item["record"], item["record"] == master,
                                                     _provenance_text(name, item["value"])) for item in items])
              for name, items in (provenance.get("fields") or {}).items()]
    additions = [(item["source"], item["record"], _addition_text(item)) for item in provenance.get("added", [])]
    members = [(record, membership, _publication(record.record)) for record, membership in view.members]
    return render_template("national/work.html", work=view.work, pub=_publication(view.work.merged_record),
                           members=members, fields=fields, additions=additions, decisions=view.decisions,
                           master=master, errors=errors or {}, form=request.form), status


def _comment() -> str | None:
    text = request.form.get("comment", "").strip()
    return text[:2000] or None


def _decision(work_id: int, field: str, decide: Callable[[], None], done: str, follow: int) -> Any:
    """Record an operator's decision, re-cluster what it touches, and land on the work ``follow``'s record is in."""
    try:
        decide()
        dedup.refresh(session)
        session.commit()
    except store.SourceError as exc:
        session.rollback()
        return _render_work(work_id, exc.errors or {field: str(exc)}, 400)
    flash(done)
    return redirect(url_for("national.work_after", work_id=work_id, record_id=follow), code=303)


@bp.post("/works/<int:work_id>/split")
@admin_only
def split(work_id: int) -> Any:
    raw = request.form.get("record_id", "").strip()
    if not raw.isdigit():
        return _render_work(work_id, {"record_id": "choose the record to split out of this work"}, 400)
    return _decision(work_id, "record_id", lambda: store.split_out(session, work_id, int(raw), _who(), _comment()),
                     f"Record {raw} is split out of this work, and stays apart after every later harvest.", int(raw))


@bp.get("/works/<int:work_id>/after/<int:record_id>")
def work_after(work_id: int, record_id: int) -> Any:
    """Where an operator lands after a decision: the work the decided record is in now.

    Re-clustering may hand the old work's number to another group (which one keeps it depends on
    the order rows come back in), so the record, not the number, says where the decision went.
    """
    target = store.work_of_record(session, record_id)
    if target is None and session.get(Work, work_id) is not None:
        target = work_id
    if target is None:
        return redirect(url_for("national.record", record_id=record_id), code=303)
    return redirect(url_for("national.work", work_id=target), code=303)


@bp.post("/works/<int:work_id>/merge")
@admin_only
def merge(work_id: int) -> Any:
    raw = request.form.get("other_work", "").strip().lstrip("#")
    if not raw.isdigit():
        return _render_work(work_id, {"other_work": "give the number of the work to merge with, e.g. 1234"}, 400)
    work = session.get(Work, work_id)
    if work is None or work.master_record_id is None:
        raise NotFound(f"no work with number {work_id} in the national bibliography")
    return _decision(work_id, "other_work", lambda: store.merge_works(session, work_id, int(raw), _who(), _comment()),
                     f"Works {work_id} and {raw} are merged, and stay merged after every later harvest.",
                     work.master_record_id)


@bp.get("/records/<int:record_id>")
def record(record_id: int) -> Any:
    try:
        found = store.get_record_by_id(session, record_id)
    except store.SourceError as exc:
        raise NotFound(str(exc)) from None
    return render_template("national/record.html", record=found, pub=_publication(found.record),
                           work_id=store.work_of_record(session, record_id))


@bp.get("/records/<int:record_id>.xml")
def record_xml(record_id: int) -> Response:
    """The record exactly as the source sent it, as plain text: harvested XML is untrusted, never rendered."""
    try:
        found: HarvestedRecord = store.get_record_by_id(session, record_id)
    except store.SourceError as exc:
        raise NotFound(str(exc)) from None
    return Response(found.raw_xml or "", content_type="text/plain; charset=utf-8")


# -- quality reports ----------------------------------------------------------------------------------

@bp.get("/quality/")
def quality_index() -> str:
    return render_template("national/quality_index.html", institutions=quality_reports.institutions(session))


def _summary(institution: str) -> quality_reports.InstitutionSummary:
    found = quality_reports.summary(session, institution)
    if found is None:
        raise NotFound(f"no harvested records of an institution {institution!r}")
    return found


@bp.get("/quality/<institution>")
def quality(institution: str) -> str:
    summary = _summary(institution)
    return render_template("national/quality.html", summary=summary,
                           counts=quality_reports.code_counts(session, institution),
                           worst=quality_reports.worst_records(session, institution),
                           trend=quality_reports.trend(session, institution))


def _csv(name: str, rows: Iterator[str]) -> Response:
    response = Response(stream_with_context(rows), content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/quality/<institution>/report.csv")
def quality_csv(institution: str) -> Response:
    """Records per problem code, with SwePub's label: the report a repository manager works through."""
    _summary(institution)
    counts = quality_reports.code_counts(session, institution)
    rows = ((institution, c.code, c.severity, c.name or "", c.label, c.records) for c in counts)
    return _csv(f"quality-{institution}.csv", works_export.rows_as_csv(
        ("institution", "code", "severity", "swepub_name", "label", "records"), rows))


@bp.get("/quality/<institution>/problems.csv")
def problems_csv(institution: str) -> Response:
    """Every problem of every live record of the institution, one row each, streamed."""
    _summary(institution)
    sessions = database().sessionmaker

    def generate() -> Iterator[str]:
        with sessions() as own:
            yield from works_export.rows_as_csv(quality_reports.PROBLEM_COLUMNS,
                                                quality_reports.problem_rows(own, institution))

    return _csv(f"problems-{institution}.csv", generate())


# -- sources (administrators) -------------------------------------------------------------------------

def _form_value(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


@bp.get("/sources/")
@admin_only
def sources() -> str:
    return _render_sources({})


def _render_sources(errors: dict[str, str], status: int = 200) -> Any:
    return render_template("national/sources.html", overview=store.sources_overview(session), errors=errors,
                           form=request.form, prefixes=METADATA_PREFIXES, aliases=ALIASES), status


@bp.post("/sources/")
@admin_only
def add_source() -> Any:
    values = {name: _form_value(name) for name in SOURCE_FIELDS}
    missing = {name: "required" for name in ("name", "base_url", "metadata_prefix") if not values[name]}
    if missing:
        return _render_sources({k: f"The {k.replace('_', ' ')} is required." for k in missing}, 400)
    try:
        store.add_source(session, values["name"] or "", values["base_url"] or "", values["metadata_prefix"] or "",
                         set_spec=values["set_spec"], xslt_text=values["xslt"], schedule=values["schedule"],
                         contact=values["contact"], institution_code=values["institution_code"])
        session.commit()
    except store.SourceError as exc:
        session.rollback()
        return _render_sources(exc.errors or {"name": str(exc)}, 400)
    flash(f"Source {values['name']} added; it is harvested at its schedule, or now with "
          f"`flask --app wsgi harvest run {values['name']}`.")
    return redirect(url_for("national.sources"), code=303)


@bp.get("/sources/<name>")
@admin_only
def source(name: str) -> str:
    try:
        found = store.get_source(session, name)
    except store.SourceError as exc:
        raise NotFound(str(exc)) from None
    return render_template("national/source.html", source=found, runs=store.source_runs(session, found.id))


@bp.get("/runs/<int:run_id>")
@admin_only
def run(run_id: int) -> str:
    found = session.get(HarvestRun, run_id)
    if found is None:
        raise NotFound(f"no harvest run {run_id}")
    return render_template("national/run.html", run=found, source=session.get(Source, found.source_id),
                           events=store.run_events(session, run_id))


def utc_text(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""


bp.add_app_template_filter(utc_text, "utc")
