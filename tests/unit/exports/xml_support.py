"""What the XML export tests share: hostile text, harvester-style parsing, and a real OAI-PMH envelope."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable

from hypothesis import strategies as st
from lxml import etree

from exports.schemas import safe_parser
from exports.xml import has_text

NS = {
    "mods": "http://www.loc.gov/mods/v3",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcite": "http://datacite.org/schema/kernel-4",
    "oai": "http://www.openarchives.org/OAI/2.0/",
}
OAI_NS = NS["oai"]
DAY = dt.date(2024, 3, 1)

# Strings that have broken XML writers: markup, entities, quotes, CDATA ends, bidi controls,
# emoji and combining marks, C0/C1 controls, non-characters and a lone surrogate (a valid str).
HOSTILE_FRAGMENTS = (
    "<script>alert('x')</script>", "&", "&amp;", "&#0;", '"', "'", "]]>", "<![CDATA[", "\u202eevil\u202c",
    "\u200f", "مرحبا", "👩\u200d🔬", "e\u0301", "\x00", "\x01", "\x08", "\x0b", "\x1f", "\x7f", "\x85", "\ufffe",
    "\uffff", "\ud800", "\udfff", "\r\n", "\t", "  ", "Å", "🜁",
)


def hostile_text(min_size: int = 0) -> st.SearchStrategy[str]:
    """Any Unicode (surrogates included) mixed with the fragments above."""
    piece = st.one_of(st.sampled_from(HOSTILE_FRAGMENTS), st.text(st.characters(exclude_categories=()), max_size=8))
    return st.lists(piece, min_size=min_size, max_size=6).map("".join)


def visible_hostile_text() -> st.SearchStrategy[str]:
    """Hostile text that still says something once XML-forbidden characters are gone (a title must)."""
    return hostile_text(min_size=1).filter(has_text)


def parse(data: bytes) -> etree._Element:
    """Parse output the way a harvester should: no network, no DTD, no entity expansion."""
    return etree.fromstring(data, safe_parser())


def xp(el: etree._Element, path: str) -> list:
    """XPath with the namespace prefixes above."""
    return el.xpath(path, namespaces=NS)


def joined(chunks: Iterable[bytes]) -> bytes:
    return b"".join(chunks)


def oai_get_record(payload: etree._Element, identifier: str, prefix: str) -> bytes:
    """A GetRecord response written the way the provider streams one: ``xf.write(payload)`` in ``metadata``."""
    out = io.BytesIO()
    location = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
    with etree.xmlfile(out, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(f"{{{OAI_NS}}}OAI-PMH", {f"{{{NS['xsi']}}}schemaLocation": location},
                        nsmap={None: OAI_NS, "xsi": NS["xsi"]}):
            for tag, text, attrs in (("responseDate", "2024-03-01T12:30:00Z", {}),
                                     ("request", "http://127.0.0.1/oai",
                                      {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix})):
                with xf.element(f"{{{OAI_NS}}}{tag}", attrs):
                    xf.write(text)
            with xf.element(f"{{{OAI_NS}}}GetRecord"), xf.element(f"{{{OAI_NS}}}record"):
                with xf.element(f"{{{OAI_NS}}}header"):
                    for tag, text in (("identifier", identifier), ("datestamp", "2024-03-01T12:30:00Z")):
                        with xf.element(f"{{{OAI_NS}}}{tag}"):
                            xf.write(text)
                with xf.element(f"{{{OAI_NS}}}metadata"):
                    xf.write(payload)
    return out.getvalue()


class CountingPublications:
    """An iterable of publications that counts how many were taken, to show a writer streams."""

    def __init__(self, pubs: Iterable[object], total: int) -> None:
        self.pubs = list(pubs)
        self.total = total
        self.taken = 0

    def __iter__(self):
        for i in range(self.total):
            self.taken += 1
            yield self.pubs[i % len(self.pubs)]
