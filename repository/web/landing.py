"""The landing page's machine-readable face: Scholar meta tags, Signposting links, sitemap.xml, robots.txt.

Google Scholar reads ``citation_*`` meta tags (its inclusion guidelines name them), FAIR
Signposting clients read typed ``Link`` headers without parsing HTML, and search engines find
every public record through the sitemap. The tags and links are pure functions of the read
model; the only query is the sitemap's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request, stream_with_context, url_for
from lxml import etree

from exports import readmodel as rm
from exports.registry import FORMATS
from exports.vocabularies import iso639_1
from exports.xml import open_files, stream_document
from repository.db import session
from repository.models import Publication
from repository.services import sitemap
from repository.services.readmodel import URN_RESOLVER, today_utc
from repository.web.context import read_model

bp = Blueprint("landing", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
THESIS_TYPES = ("dok", "lic", "stud")
DESCRIBED_BY = ("bibtex", "ris", "csl-json", "mods", "datacite")
FORMAT_PROFILES = {"mods": "http://www.loc.gov/mods/v3", "datacite": "http://datacite.org/schema/kernel-4"}
SCHEMA_ORG_TYPES = {
    "art": "ScholarlyArticle", "for": "ScholarlyArticle", "rec": "Review", "kon": "ScholarlyArticle",
    "pro": "Book", "bok": "Book", "sam": "Book", "kap": "Chapter", "rap": "Report", "dok": "Thesis",
    "lic": "Thesis", "stud": "Thesis", "pat": "CreativeWork", "kfu": "CreativeWork", "ovr": "CreativeWork",
}


def citation_meta(pub: rm.Publication, today: dt.date) -> list[tuple[str, str]]:
    """Google Scholar's ``citation_*`` (name, content) pairs for a public record, in Scholar's order."""
    if pub.state != "published":
        return []
    tags: list[tuple[str, str]] = [("citation_title", pub.title.full())]
    tags += [("citation_author", c.inverted_name()) for c in pub.authors if c.inverted_name()]
    if pub.issued:
        tags.append(("citation_publication_date", pub.issued.iso().replace("-", "/")))
    host = pub.host
    if host is not None:
        if host.kind == "journal":
            tags.append(("citation_journal_title", host.title))
        elif pub.publication_type == "kon" or host.kind == "proceedings":
            tags.append(("citation_conference_title", host.title))
        else:
            tags.append(("citation_inbook_title", host.title))
        tags += [(name, value) for name, value in (
            ("citation_volume", host.volume), ("citation_issue", host.issue),
            ("citation_firstpage", host.page_start), ("citation_lastpage", host.page_end)) if value]
        tags += [("citation_issn", issn) for issn in (host.issn, host.eissn) if issn]
    elif pub.conference is not None:
        tags.append(("citation_conference_title", pub.conference.name))
    if pub.doi:
        tags.append(("citation_doi", pub.doi))
    tags += [("citation_isbn", isbn) for isbn in dict.fromkeys(pub.identifiers_of("isbn") + (host.isbns if host else ()))]
    publisher = pub.publisher or (host.publisher if host else None)
    if publisher:
        tags.append(("citation_publisher", publisher))
    if pub.publication_type in THESIS_TYPES or pub.thesis is not None:
        institution = (pub.thesis.granting_institution if pub.thesis else None) or pub.institution_name
        if institution:
            tags.append(("citation_dissertation_institution", institution))
    tags += [("citation_pdf_url", f.url) for f in open_files(pub, today)
             if f.role == "fulltext" and f.mime_type == "application/pdf" and f.url]
    tags += [("citation_language", iso639_1(code) or code) for code in pub.languages]
    tags += [("citation_keywords", k.term) for k in pub.keywords]
    if pub.url:
        tags.append(("citation_abstract_html_url", pub.url))
    return tags


def signposting_links(pub: rm.Publication, today: dt.date) -> list[str]:
    """The typed links (RFC 8288 values) FAIR Signposting puts on a landing page."""
    if pub.state != "published" or not pub.url:
        return []
    links = [_link(cite_as(pub), "cite-as")]
    links += [_link(f"https://orcid.org/{c.orcid}", "author") for c in pub.authors if c.orcid]
    links += [_link(f.url, "item", type=f.mime_type) for f in open_files(pub, today) if f.url]
    for name in DESCRIBED_BY:
        fmt = FORMATS[name]
        links.append(_link(f"{pub.url}/export/{name}", "describedby", type=fmt.mime_type,
                           profile=FORMAT_PROFILES.get(name)))
    if pub.licence:
        links.append(_link(pub.licence, "license"))
    links.append(_link(f"https://schema.org/{SCHEMA_ORG_TYPES.get(pub.publication_type, 'CreativeWork')}", "type"))
    links.append(_link("https://schema.org/AboutPage", "type"))
    return links


def cite_as(pub: rm.Publication) -> str:
    """The persistent identifier to cite: the DOI, else the URN:NBN at KB's resolver, else the page."""
    if pub.doi:
        return f"https://doi.org/{pub.doi}"
    urn = pub.identifier("urn")
    if urn and urn.startswith("urn:nbn:"):
        return URN_RESOLVER + urn
    return pub.url or ""


def _link(url: str, rel: str, **params: str | None) -> str:
    extra = "".join(f'; {key}="{value}"' for key, value in params.items() if value)
    return f'<{url}>; rel="{rel}"{extra}'


@bp.app_template_global()
def scholar_meta(pub: rm.Publication, today: dt.date) -> list[tuple[str, str]]:
    return citation_meta(pub, today)


@bp.after_app_request
def _signpost(response: Response) -> Response:
    """Add Signposting to a landing page's answer (GET and HEAD), after the public blueprint rendered it."""
    if request.endpoint != "public.publication" or response.status_code != 200 or not request.view_args:
        return response
    record = session.get(Publication, request.view_args["publication_id"])  # in the identity map: no query
    if record is None or not record.is_public:
        return response
    for value in signposting_links(read_model(record), today_utc()):
        response.headers.add("Link", value)
    return response


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    """The sitemap itself while the records fit in one file, else an index of numbered sitemaps."""
    pages = sitemap.sitemap_pages()
    if pages == 1:
        return _urlset(1)
    base = current_app.config["BASE_URL"]
    entries = []
    for page in range(1, pages + 1):
        entry = etree.Element(f"{{{SITEMAP_NS}}}sitemap")
        etree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = base + url_for("landing.sitemap_page", page=page)
        entries.append(entry)
    body = b"".join(stream_document(f"{{{SITEMAP_NS}}}sitemapindex", entries, nsmap={None: SITEMAP_NS}))
    return Response(body, mimetype="application/xml")


@bp.get("/sitemap-<int:page>.xml")
def sitemap_page(page: int) -> Response:
    if not 1 <= page <= sitemap.sitemap_pages():
        return Response(f"There is no sitemap page {page}.\n", 404, mimetype="text/plain")
    return _urlset(page)


def _urlset(page: int) -> Response:
    rows = sitemap.public_datestamps(page)
    base = current_app.config["BASE_URL"]

    def urls() -> Iterator[etree._Element]:
        for publication_id, datestamp in rows:
            entry = etree.Element(f"{{{SITEMAP_NS}}}url")
            loc = base + url_for("public.publication", publication_id=publication_id)
            etree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = loc
            etree.SubElement(entry, f"{{{SITEMAP_NS}}}lastmod").text = (
                datestamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
            yield entry

    chunks = stream_document(f"{{{SITEMAP_NS}}}urlset", urls(), nsmap={None: SITEMAP_NS})
    return Response(stream_with_context(chunks), mimetype="application/xml")


# Pages of people's own work, endless facet combinations and machine formats: crawlers get the
# landing pages (through the sitemap) and the full texts, and nothing that would trap them.
ROBOTS_DISALLOW = ("/login", "/logout", "/account", "/deposit", "/review", "/api/", "/oai", "/search", "/cite",
                   "/export", "/publications/*/export/", "/publications/*/cite")


@bp.get("/robots.txt")
def robots() -> Response:
    base = current_app.config["BASE_URL"]
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), f"Sitemap: {base}/sitemap.xml", ""]
    return Response("\n".join(lines), mimetype="text/plain")
