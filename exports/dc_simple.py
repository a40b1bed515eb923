"""The "dc" format: the same Dublin Core elements as oai_dc, in a plain document for downloads.

oai_dc's container belongs to OAI-PMH; outside it, DCMI's "Guidelines for implementing Dublin
Core in XML" put the elements straight inside a container of the application's choosing and
show ``<metadata>``, which is what a record is here. A list is ``<records>`` around one
``<metadata>`` per record. Both containers are in no namespace and described by the bundled
schema ``hylla-dc-records``; the ``dc:*`` elements come from ``exports.dc`` unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from lxml import etree

from exports.dc import LIST_ROOT, add_dc_elements
from exports.readmodel import Publication
from exports.xml import DC_NS, document, root_element, stream_document, today_utc

SCHEMA = "hylla-dc-records"
NSMAP: dict[str | None, str] = {"dc": DC_NS}


def element(pub: Publication, *, today: dt.date | None = None) -> etree._Element:
    """The record's ``<metadata>`` element holding its ``dc:*`` elements."""
    root = root_element("metadata", NSMAP)
    add_dc_elements(root, pub, today or today_utc())
    return root


def render(pub: Publication, *, today: dt.date | None = None) -> bytes:
    """One record as a plain Dublin Core document."""
    return document(element(pub, today=today))


def render_many(pubs: Iterable[Publication], *, today: dt.date | None = None) -> Iterator[bytes]:
    """Records as one ``<records>`` document, streamed record by record."""
    day = today or today_utc()
    return stream_document(LIST_ROOT, (element(pub, today=day) for pub in pubs))
