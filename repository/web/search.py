"""The search page, browse pages, the Atom feed of any search, whole-result exports and ``/api/search``.

Every surface takes the same parameters: ``q`` (the search box), facet filters (``type``,
``content``, ``year``, ``unit``, ``subject``, ``language``, ``oa``, ``level``, ``person``, each
repeatable), ``sort`` (relevance, newest, oldest, title, added), ``size``, ``page`` (relevance) and
``cursor`` (the other sorts, for paging to the end).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint, Flask, Response, current_app, jsonify, redirect, render_template, request, stream_with_context, url_for,
)

from exports import vocabularies
from exports.registry import FORMATS, UnknownFormat, get_format
from repository import PROJECT_ROOT
from repository.errors import NotFound
from repository.search import atom, results
from repository.search.query import QueryError
from repository.search.service import FACETS, SORTS
from repository.services.readmodel import today_utc
from repository.web.context import CONTENT_LABELS, LEVEL_LABELS, TYPE_LABELS, site

bp = Blueprint("search", __name__, static_folder=str(PROJECT_ROOT / "templates" / "search" / "static"),
               static_url_path="/static/search")

PAGE_SIZE = 20
FEED_SIZE = 50
LABELS = {"type": TYPE_LABELS, "content": CONTENT_LABELS, "level": LEVEL_LABELS}
FACET_TITLES = {"type": "Publication type", "content": "Content", "year": "Year", "unit": "Organisation",
                "subject": "Research subject", "language": "Language", "oa": "Open access", "level": "Thesis level"}
SORT_LABELS = {"relevance": "Relevance", "newest": "Newest first", "oldest": "Oldest first", "title": "Title A–Ö",
               "added": "Recently added"}


def _int(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not raw.isdigit():
        raise QueryError(f"{name}={raw!r}: a whole number is needed")
    return int(raw)


def _run(*, size: int, sort: str | None = None, facets: bool = True) -> results.Page:
    return results.run(request.args.get("q", ""), results.request_filters(request.args),
                       sort=request.args.get("sort") or sort, size=_int("size", size), page=_int("page", 1),
                       cursor=request.args.get("cursor") or None, site=site(), facets=facets, labels=LABELS)


def _params(**changes: Any) -> dict[str, Any]:
    """The current query string with ``changes`` (a value of None removes a parameter)."""
    params: dict[str, list[str]] = {k: request.args.getlist(k) for k in request.args}
    params.pop("cursor", None)
    params.pop("page", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value if isinstance(value, list) else [str(value)]
    return params


def search_url(endpoint: str = "search.search_page", route: dict[str, Any] | None = None, **changes: Any) -> str:
    """The current search at ``endpoint`` (with its ``route`` values), the query string changed by ``changes``."""
    query = urlencode(_params(**changes), doseq=True)
    return url_for(endpoint, **(route or {})) + (f"?{query}" if query else "")


def toggle_url(facet: str, value: str) -> str:
    """The search with ``facet=value`` added, or removed if it is already chosen."""
    chosen = request.args.getlist(facet)
    if value in chosen:
        kept = [v for v in chosen if v != value]
        if facet in results.HIERARCHICAL:  # removing a unit also removes the units chosen below it
            kept = [v for v in kept if not v.startswith(value)]
        return search_url(**{facet: kept or None})
    return search_url(**{facet: chosen + [value]})


def chosen_label(page: results.Page, facet: str, value: str) -> str:
    """How a chosen filter reads in its "remove" link: the facet's label for the value."""
    for entry in page.facets.get(facet, []):
        if entry.value == value:
            return entry.label
    if facet == "person":
        return results.person_name(value)
    return value


def _problem(status: int, title: str, detail: str) -> Response:
    response = jsonify({"type": "about:blank", "title": title, "status": status, "detail": detail})
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


@bp.get("/search")
def search_page():  # type: ignore[no-untyped-def]
    try:
        page = _run(size=PAGE_SIZE)
    except QueryError as exc:
        return render_template("search/search.html", error=str(exc), page=None, q=request.args.get("q", "")), 400
    if page.identifier_lookup and page.total == 1 and page.hits:
        return redirect(url_for("public.publication", publication_id=int(page.hits[0].pub.id)))
    return render_template("search/search.html", page=page, error=None, q=request.args.get("q", ""))


@bp.get("/search.atom")
def search_feed() -> Response:
    try:
        page = _run(size=FEED_SIZE, sort="added", facets=False)
    except QueryError as exc:
        return _problem(400, "Bad search", str(exc))
    q = "".join(c for c in request.args.get("q", "") if c.isprintable()).strip()[:200]  # XML allows no controls
    title = f"{current_app.config['REPOSITORY_NAME']}: " + (q or "new publications")
    body = atom.feed(title=title, feed_url=site().base_url + search_url("search.search_feed"),
                     page_url=site().base_url + search_url(),
                     publications=[h.pub for h in page.hits], generator=current_app.config["REPOSITORY_NAME"],
                     type_labels=TYPE_LABELS)
    return Response(body, content_type="application/atom+xml; charset=utf-8")


@bp.get("/search/export/<format_name>")
def search_export(format_name: str) -> Response:
    """The whole result set in any export format, streamed record by record."""
    try:
        fmt = get_format(format_name)
    except UnknownFormat as exc:
        raise NotFound(str(exc)) from None
    try:
        records = results.export_records(request.args.get("q", ""), results.request_filters(request.args), site())
    except QueryError as exc:
        return Response(str(exc), status=400, content_type="text/plain; charset=utf-8")
    response = Response(stream_with_context(fmt.render_many(records)),
                        content_type=f"{fmt.mime_type}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{fmt.filename("search")}"'
    return response


@bp.get("/api/search")
def api_search() -> Response:
    try:
        page = _run(size=PAGE_SIZE, facets=request.args.get("facets", "true") != "false")
    except QueryError as exc:
        return _problem(400, "Bad search", str(exc))
    return jsonify(api_body(page))


def api_body(page: results.Page) -> dict[str, Any]:
    base = site().base_url
    next_url = None
    if page.result.next_cursor:
        next_url = base + search_url("search.api_search", cursor=page.result.next_cursor)
    elif page.plan.sort == "relevance" and page.plan.offset + page.plan.size < min(page.total, 10_000):
        next_url = base + search_url("search.api_search", page=page.plan.offset // page.plan.size + 2)
    return {
        "query": {"q": request.args.get("q", ""), "filters": {k: list(v) for k, v in page.plan.filters.items()},
                  "sort": page.plan.sort, "size": page.plan.size},
        "total": page.total,
        "items": [_item(hit) for hit in page.hits],
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                          for v in values] for name, values in page.facets.items()},
        "links": {"self": base + search_url("search.api_search", cursor=request.args.get("cursor"),
                                            page=request.args.get("page")), "next": next_url, "atom": base + search_url("search.search_feed"),
                  "html": base + search_url()},
    }


def _item(hit: results.Hit) -> dict[str, Any]:
    pub = hit.pub
    return {
        "id": int(pub.id), "url": pub.url, "title": pub.title.full(), "type": pub.publication_type,
        "year": pub.year, "authors": [c.display_name() for c in pub.authors], "doi": pub.doi,
        "languages": list(pub.languages), "open_access": pub.is_open_access_on(today_utc()),
        "highlight": {"title": str(hit.title), **({"abstract": str(hit.snippet)} if hit.snippet else {})},
    }


# --- browse -----------------------------------------------------------------------------------------

BROWSE = {"units": "unit", "subjects": "subject", "years": "year", "types": "type"}


@bp.get("/browse/")
def browse_index() -> str:
    return render_template("search/browse_index.html", kinds=BROWSE)


@bp.get("/browse/<kind>")
def browse(kind: str):  # type: ignore[no-untyped-def]
    if kind == "persons":
        return browse_persons()
    facet = BROWSE.get(kind)
    if facet is None:
        raise NotFound(f"nothing to browse by {kind!r}; try {', '.join([*BROWSE, 'persons'])}")
    page = results.run("", {}, sort="newest", size=1, page=1, cursor=None, site=site(), labels=LABELS)
    counts = page.result.facets.get(facet, [])
    if facet in results.HIERARCHICAL:  # the whole tree in path order, indented by depth
        counts = sorted(counts, key=lambda c: c.value)
    units = results.unit_names([c.value for c in counts]) if facet == "unit" else {}
    entries = [results.FacetValue(c.value, results.label(facet, c.value, units, LABELS), c.count, False,
                                  results.depth(facet, c.value)) for c in counts]
    return render_template("search/browse.html", kind=kind, facet=facet, entries=entries,
                           title=FACET_TITLES[facet])


def browse_persons() -> str:
    letter = request.args.get("letter", "A")[:1].upper() or "A"
    persons = results.persons_by_initial(letter)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖ"
    return render_template("search/browse_persons.html", persons=persons, letter=letter, letters=letters)


def init_app(app: Flask) -> None:
    """Register the pages and their template helpers (the index hooks are set up by create_app)."""
    app.register_blueprint(bp)

    @app.context_processor
    def _search_helpers() -> dict[str, object]:
        return {"search_url": search_url, "toggle_url": toggle_url, "chosen_label": chosen_label, "facet_titles": FACET_TITLES,
                "sort_labels": SORT_LABELS, "sorts": SORTS, "facet_names": FACETS, "export_formats": FORMATS,
                "subject_label": lambda code: vocabularies.subject_labels(code)[0] or code}


# --- the OpenAPI description of /api/search ---------------------------------------------------------

def openapi_paths() -> dict[str, dict[str, Any]]:
    """``/api/search`` as an OpenAPI 3.1 path item, for the API's description to include.

    Public: the operation overrides the document's bearer requirement with ``security: []``.
    The schemas are JSON Schema 2020-12, so a client (and the tests) can validate answers.
    """
    facet_value = {"type": "object", "required": ["value", "label", "count", "selected"], "properties": {
        "value": {"type": "string"}, "label": {"type": "string"}, "count": {"type": "integer", "minimum": 0},
        "selected": {"type": "boolean"}}}
    item = {"type": "object", "required": ["id", "url", "title", "type", "year", "authors", "doi", "languages",
                                           "open_access", "highlight"], "properties": {
        "id": {"type": "integer"}, "url": {"type": "string", "format": "uri"}, "title": {"type": "string"},
        "type": {"type": "string"}, "year": {"type": ["integer", "null"]},
        "authors": {"type": "array", "items": {"type": "string"}}, "doi": {"type": ["string", "null"]},
        "languages": {"type": "array", "items": {"type": "string"}}, "open_access": {"type": "boolean"},
        "highlight": {"type": "object", "description": "HTML with the matched words in <mark>",
                      "properties": {"title": {"type": "string"}, "abstract": {"type": "string"}}}}}
    result = {"type": "object", "required": ["query", "total", "items", "facets", "links"], "properties": {
        "query": {"type": "object", "properties": {
            "q": {"type": "string"}, "sort": {"enum": list(SORTS)}, "size": {"type": "integer"},
            "filters": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}},
        "total": {"type": "integer", "minimum": 0},
        "items": {"type": "array", "items": item},
        "facets": {"type": "object", "propertyNames": {"enum": list(FACETS)},
                   "additionalProperties": {"type": "array", "items": facet_value}},
        "links": {"type": "object", "required": ["self", "next", "atom", "html"], "properties": {
            "self": {"type": "string"}, "next": {"type": ["string", "null"]}, "atom": {"type": "string"},
            "html": {"type": "string"}}}}}
    problem = {"type": "object", "required": ["title", "status", "detail"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}}}

    def param(name: str, description: str, schema: dict[str, Any], *, many: bool = False) -> dict[str, Any]:
        if many:
            return {"name": name, "in": "query", "description": description, "style": "form", "explode": True,
                    "schema": {"type": "array", "items": schema}}
        return {"name": name, "in": "query", "description": description, "schema": schema}

    text = {"type": "string"}
    parameters = [
        param("q", "The search box: words, \"phrases\", AND/OR/NOT, -word, word*, title:, author:, subject:, "
                   "orcid:, doi:, isbn:, issn:, urn:, year:2019..2021; a DOI, ISBN, ISSN, ORCID iD or URN:NBN "
                   "alone finds its record", {"type": "string", "maxLength": 1000}),
        param("type", "Publication type (SVEP code, or stud)", text, many=True),
        param("content", "Content type: ref, vet, pop", text, many=True),
        param("year", "Publication year", {"type": "string", "pattern": "^[0-9]{4}$"}, many=True),
        param("unit", "Organisation unit path, e.g. uu:teknat:kemi (includes the units below)", text, many=True),
        param("subject", "SSIF research subject code (1, 3 or 5 digits)", text, many=True),
        param("language", "ISO 639-2 language code", text, many=True),
        param("oa", "Full text open access today", {"enum": ["true", "false"]}),
        param("level", "Thesis level", text, many=True),
        param("person", "Hylla person id", {"type": "string", "pattern": "^[0-9]+$"}, many=True),
        param("sort", "Order of the hits (relevance when q is given, else newest)", {"enum": list(SORTS)}),
        param("size", "Hits per page", {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}),
        param("page", "Page number (relevance order; 10,000 hits deep)", {"type": "integer", "minimum": 1}),
        param("cursor", "Opaque position from links.next (the other sorts; pages to the end)", text),
        param("facets", "false leaves the facet counts out (faster)", {"enum": ["true", "false"]}),
    ]
    return {"/api/search": {"get": {
        "summary": "Search the public records, with facet counts", "operationId": "search", "security": [],
        "parameters": parameters,
        "responses": {
            "200": {"description": "A page of hits", "content": {"application/json": {"schema": result}}},
            "400": {"description": "A parameter that cannot be honoured, with a sentence saying why",
                    "content": {"application/problem+json": {"schema": problem}}}}}}}
