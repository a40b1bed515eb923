"""An Atom 1.0 feed (RFC 4287) of a search's newest records, for feed readers to subscribe to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from lxml import etree

from exports import readmodel as rm

ATOM = "http://www.w3.org/2005/Atom"
SUMMARY_CHARACTERS = 600
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _stamp(value: dt.datetime | None) -> str:
    return (value or EPOCH).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def feed(*, title: str, feed_url: str, page_url: str, publications: Sequence[rm.Publication], generator: str,
         type_labels: dict[str, str]) -> bytes:
    """The feed document; ``feed_url`` is its id and self link, ``page_url`` the same search as a page."""
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    _add(root, "id", feed_url)
    _add(root, "title", title)
    updated = max((p.datestamp or p.updated or EPOCH for p in publications), default=EPOCH)
    _add(root, "updated", _stamp(updated))
    _add(root, "link", rel="self", type="application/atom+xml", href=feed_url)
    _add(root, "link", rel="alternate", type="text/html", href=page_url)
    _add(root, "generator", generator)
    if not publications:
        author = _add(root, "author")  # a feed without entries still needs an author
        _add(author, "name", generator)
    for pub in publications:
        entry = _add(root, "entry")
        _add(entry, "id", pub.url or f"{page_url}#{pub.id}")
        _add(entry, "title", pub.title.full())
        _add(entry, "updated", _stamp(pub.datestamp or pub.updated))
        if pub.created:
            _add(entry, "published", _stamp(pub.created))
        _add(entry, "link", rel="alternate", type="text/html", href=pub.url or page_url)
        people = pub.authors or pub.contributors
        for person in people[:20]:
            author = _add(entry, "author")
            _add(author, "name", person.display_name() or "Unknown")
            if person.orcid:
                _add(author, "uri", f"https://orcid.org/{person.orcid}")
        if not people:
            author = _add(entry, "author")
            _add(author, "name", pub.institution_name or generator)
        _add(entry, "category", term=pub.publication_type, label=type_labels.get(pub.publication_type, pub.publication_type))
        abstract = pub.abstracts[0].text if pub.abstracts else None
        if abstract:
            text = abstract if len(abstract) <= SUMMARY_CHARACTERS else abstract[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0] + " …"
            _add(entry, "summary", text)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
