"""Downloads in every export format, formatted citations and DOI-style content negotiation.

One record (``/publications/<id>/export/<format>``), a person's, a unit's or an institution's
records, or a selection (``/export/<format>?ids=1,2,3``) go out in any format of
``exports.registry``; lists stream, written record by record as the database hands them over.
``/…/cite`` formats references with the CSL styles of ``exports.citations``. Other blueprints
reuse ``export_response`` (search results) and ``negotiated`` (the landing page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from flask import Blueprint, Response, make_response, render_template, request, stream_with_context, url_for
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_options_header

from exports import citations
from exports import readmodel as rm
from exports.csljson import to_csl
from exports.registry import FORMATS, Format, UnknownFormat, by_mime_type, get_format
from repository.auth import acting_user
from repository.errors import Invalid
from repository.services import exports as service
from repository.web.context import site

bp = Blueprint("exports", __name__)

# Bytes gathered before a piece of a download goes out: one write per record would mean
# 100,000 tiny writes to the socket.
BUFFER_BYTES = 64 * 1024
# citeproc-py renders a bibliography from a list in memory: beyond this a list is downloaded
# in a data format (BibTeX, RIS, CSL-JSON) and formatted by the reader's own reference manager.
CITE_LIST_LIMIT = 10_000
DEFAULT_STYLE = "apa"
DEFAULT_LOCALE = "en-US"
CITE_OUTPUTS = {"html": "Web page", "text": "Plain text"}
# What the landing page answers besides HTML, as DOI content negotiation does (crosscite.org).
BIBLIOGRAPHY_TYPE = "text/x-bibliography"
NEGOTIATED_TYPES = ("application/x-bibtex", "application/x-research-info-systems",
                    "application/vnd.citationstyles.csl+json", "application/mods+xml",
                    "application/vnd.datacite.datacite+xml")
PAGE_TYPES = ("text/html", "application/xhtml+xml")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")



# -- download responses ---------------------------------------------------------------------

def content_type(fmt: Format) -> str:
    """The registry's MIME type; every format Hylla writes is UTF-8 text, so say so."""
    return f"{fmt.mime_type}; charset=utf-8"


def content_disposition(kind: str, filename: str) -> str:
    """``attachment; filename=…`` with an ASCII name for old clients and RFC 6266's ``filename*`` for the rest."""
    fallback = _UNSAFE_FILENAME.sub("_", filename).strip("._") or "export"
    value = f'{kind}; filename="{fallback}"'
    if fallback != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def _download(body: bytes | Iterable[bytes], fmt: Format, stem: str) -> Response:
    response = Response(body, content_type=content_type(fmt))
    response.headers["Content-Disposition"] = content_disposition("attachment", fmt.filename(stem))
    return response


def _buffered(chunks: Iterable[bytes], size: int = BUFFER_BYTES) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) >= size:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def export_response(publications: Iterable[rm.Publication], format_name: str, filename_stem: str) -> Response:
    """A whole list as one streamed download in ``format_name`` (for search results, lists, selections).

    ``publications`` is consumed lazily while the body is sent; pass a generator (or a
    ``services.exports.ReadModelStream``) and memory stays flat at any length. An unknown
    format raises ``UnknownFormat``, which answers 404 with the known formats.
    """
    fmt = get_format(format_name)
    response = _download(stream_with_context(_buffered(fmt.render_many(publications))), fmt, filename_stem)
    close = getattr(publications, "close", None)
    if callable(close):
        # The client may go away before the first byte: the stream's session must close anyway.
        response.call_on_close(close)
    return response


def _list_export(records: service.RecordList, format_name: str) -> Response:
    get_format(format_name)  # an unknown format answers 404 before the query runs
    return export_response(service.stream(records, site()), format_name, records.stem)


@bp.get("/publications/<int:publication_id>/export/<format_name>")
def publication_export(publication_id: int, format_name: str) -> Response:
    fmt = get_format(format_name)
    pub = service.record(acting_user(), publication_id, site())
    return _download(fmt.render(pub), fmt, f"publication-{publication_id}")


@bp.get("/persons/<int:person_id>/export/<format_name>")
def person_export(person_id: int, format_name: str) -> Response:
    return _list_export(service.person_list(person_id), format_name)


@bp.get("/units/<int:unit_id>/export/<format_name>")
def unit_export(unit_id: int, format_name: str) -> Response:
    return _list_export(service.unit_list(unit_id), format_name)


@bp.get("/institutions/<code>/export/<format_name>")
def institution_export(code: str, format_name: str) -> Response:
    return _list_export(service.institution_list(code), format_name)


@bp.get("/export/<format_name>")
def selection_export(format_name: str) -> Response:
    get_format(format_name)
    ids = service.parse_ids(request.args.get("ids", ""))
    return _list_export(service.selection(acting_user(), ids), format_name)


@bp.app_errorhandler(UnknownFormat)
def _unknown_format(exc: UnknownFormat) -> tuple[str, int]:
    return render_template("exports/unknown_format.html", name=exc.name, formats=FORMATS.values()), 404


# -- formatted citations --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CitationChoice:
    """A style, a locale and an output (html or text), each checked against what is offered."""

    style: str
    locale: str
    output: str

    @classmethod
    def from_args(cls, style: str | None, locale: str | None, output: str | None) -> CitationChoice:
        """The choice asked for, defaults filled in, aliases (``mla``) made canonical.

        ``citations.UnknownStyle`` (and ``UnknownLocale``, ``UnknownOutput``) name what is offered instead.
        """
        chosen = cls(citations.style_id(style or DEFAULT_STYLE), locale or DEFAULT_LOCALE, output or "html")
        if chosen.locale not in citations.LOCALES:
            raise citations.UnknownLocale(chosen.locale)
        if chosen.output not in CITE_OUTPUTS:
            raise citations.UnknownOutput(chosen.output)
        return chosen


_CITATION_ERRORS = (citations.UnknownStyle, citations.UnknownLocale, citations.UnknownOutput)


# The download endpoint beside each cite endpoint, for the cite page's export links.
_EXPORT_OF_CITE = {"exports.publication_cite": "exports.publication_export",
                   "exports.person_cite": "exports.person_export", "exports.unit_cite": "exports.unit_export",
                   "exports.institution_cite": "exports.institution_export",
                   "exports.selection_cite": "exports.selection_export"}


def _url_like_this(endpoint: str, **args: str) -> str:
    """A URL for ``endpoint`` with this request's path arguments and selection (``ids``) kept."""
    kept = {"ids": request.args["ids"]} if "ids" in request.args else {}
    return url_for(endpoint, **(request.view_args or {}), **kept, **args)


def _export_links() -> list[tuple[str, str]]:
    """(label, URL) of the record or list of this cite page in every export format."""
    endpoint = _EXPORT_OF_CITE[request.endpoint or ""]
    return [(fmt.label, _url_like_this(endpoint, format_name=fmt.name)) for fmt in FORMATS.values()]


def _citation_page(heading: str, pubs: list[rm.Publication], style: str, locale: str,
                   error: str | None = None) -> str:
    entries = [] if error else citations.format_bibliography(pubs, style, locale, "html")
    return render_template("exports/cite.html", heading=heading, entries=entries, error=error, style=style,
                           locale=locale, styles=citations.STYLES, locales=citations.LOCALES,
                           outputs=CITE_OUTPUTS, selection=request.args.get("ids"),
                           text_url=_url_like_this(request.endpoint or "", style=style, locale=locale, format="text"),
                           export_links=_export_links())


def _cite(heading: str, load: Callable[[], list[rm.Publication]], stem: str) -> Response:
    """The cite page (a style picker and the references) or the references as plain text.

    A style or locale that is not offered is a 400 naming the offered ones: on the page, above the
    picker, so that a reader can choose again without JavaScript.
    """
    args = request.args
    try:
        choice = CitationChoice.from_args(args.get("style"), args.get("locale"), args.get("format"))
    except _CITATION_ERRORS as exc:
        if args.get("format") == "text":
            return Response(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
        page = _citation_page(heading, [], args.get("style", DEFAULT_STYLE), args.get("locale", DEFAULT_LOCALE),
                              error=str(exc))
        return make_response(page, 400)
    pubs = load()
    if choice.output == "text":
        text = "".join(entry + "\n" for entry in
                       citations.format_bibliography(pubs, choice.style, choice.locale, "text"))
        response = Response(text, content_type="text/plain; charset=utf-8")
        response.headers["Content-Disposition"] = content_disposition("inline", f"{stem}-{choice.style}.txt")
        return response
    return make_response(_citation_page(heading, pubs, choice.style, choice.locale))


def _cite_list(records: service.RecordList) -> Response:
    def load() -> list[rm.Publication]:
        total = service.count(records)
        if total > CITE_LIST_LIMIT:
            raise Invalid({"list": [
                f"{total} records are more than the {CITE_LIST_LIMIT} that can be formatted as one "
                "bibliography; download the list as BibTeX, RIS or CSL-JSON instead"]})
        return list(service.stream(records, site()))
    return _cite(records.title, load, records.stem)


@bp.get("/publications/<int:publication_id>/cite")
def publication_cite(publication_id: int) -> Response:
    pub = service.record(acting_user(), publication_id, site())
    return _cite(pub.title.full(), lambda: [pub], f"publication-{publication_id}")


@bp.get("/persons/<int:person_id>/cite")
def person_cite(person_id: int) -> Response:
    return _cite_list(service.person_list(person_id))


@bp.get("/units/<int:unit_id>/cite")
def unit_cite(unit_id: int) -> Response:
    return _cite_list(service.unit_list(unit_id))


@bp.get("/institutions/<code>/cite")
def institution_cite(code: str) -> Response:
    return _cite_list(service.institution_list(code))


@bp.get("/cite")
def selection_cite() -> Response:
    ids = service.parse_ids(request.args.get("ids", ""))
    return _cite_list(service.selection(acting_user(), ids))


@bp.app_template_global()
def download_formats() -> Iterable[Format]:
    return FORMATS.values()


@bp.app_template_global()
def cite_styles() -> dict[str, str]:
    return citations.STYLES


@bp.app_template_global()
def cite_locales() -> dict[str, str]:
    return citations.LOCALES


# -- content negotiation on the landing page ------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Wanted:
    mime_type: str
    params: dict[str, str]
    quality: float
    specificity: int  # 2 for type/subtype, 1 for type/*, 0 for */*
    position: int


def _wanted(accept: str) -> list[_Wanted]:
    """The media ranges of an Accept header, best first: quality, then specificity, then order.

    Werkzeug's own matching compares parameters too, so ``text/x-bibliography; style=apa``
    would never match a plain offer; the parameters are read here instead.
    """
    ranges = []
    for position, (value, quality) in enumerate(parse_accept_header(accept, MIMEAccept)):
        if quality <= 0:
            continue
        mime_type, params = parse_options_header(value)
        mime_type = mime_type.lower()
        specificity = 0 if mime_type == "*/*" else 1 if mime_type.endswith("/*") else 2
        ranges.append(_Wanted(mime_type, params, quality, specificity, position))
    return sorted(ranges, key=lambda w: (-w.quality, -w.specificity, w.position))


def _negotiated_answer(pub: rm.Publication, accept: str) -> Response | None:
    """The answer in the first format the client prefers that we offer, or None for the HTML page."""
    for wanted in _wanted(accept):
        if wanted.specificity < 2 or wanted.mime_type in PAGE_TYPES:
            return None
        if wanted.mime_type == BIBLIOGRAPHY_TYPE:
            return _bibliography_answer(pub, wanted.params)
        if wanted.mime_type in NEGOTIATED_TYPES:
            fmt = by_mime_type(wanted.mime_type)
            if fmt is not None:
                return Response(_negotiated_body(fmt, pub), content_type=content_type(fmt))
    return None


def _negotiated_body(fmt: Format, pub: rm.Publication) -> bytes:
    """The record in ``fmt``; CSL-JSON as one item, not a list, as doi.org answers (citeproc-js reads either)."""
    if fmt.name == "csl-json":
        return json.dumps(to_csl(pub), ensure_ascii=False).encode("utf-8")
    return fmt.render(pub)


def _bibliography_answer(pub: rm.Publication, params: dict[str, str]) -> Response:
    """``text/x-bibliography; style=…; locale=…``: the formatted reference as plain text."""
    try:
        choice = CitationChoice.from_args(params.get("style"), params.get("locale"), "text")
    except _CITATION_ERRORS as exc:
        return Response(f"{exc}\n", status=400, content_type="text/plain; charset=utf-8")
    text = citations.format_citation(pub, choice.style, choice.locale, "text")
    return Response(text + "\n", content_type=f"{BIBLIOGRAPHY_TYPE}; charset=utf-8")


def negotiated(pub: rm.Publication, page: Callable[[], str]) -> Response:
    """The landing page's answer: a metadata format when ``Accept`` asks for one we offer, else ``page()``.

    Browsers (``text/html``), ``*/*`` and anything not offered get the page. ``Vary: Accept``
    keeps caches from handing a BibTeX answer to a browser.
    """
    response = _negotiated_answer(pub, request.headers.get("Accept", ""))
    if response is None:
        response = make_response(page())
    response.vary.add("Accept")
    return response
