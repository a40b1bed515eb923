"""What the XML export tests share: hostile text, harvester-style parsing, and a real OAI-PMH envelope."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable

from hypothesis import strategies as st
from lxml import etree

from exports.readmodel import (
    Affiliation, Conference, Contributor, FileInfo, Funding, HostItem, Identifier, Keyword, LangText, Link, OrgUnitRef,
    PartialDate, Publication, RelatedRecord, Series, Subject, ThesisInfo, Title,
)
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


def everything() -> Publication:
    """One record with every field of the read model filled, several times where it repeats."""
    unit = Affiliation("Uppsala universitet, Institutionen för kemi", "kemi", "uu:teknat:kemi", "uu", "uu.se",
                       "https://ror.org/048a87296", "SE")
    stamp = dt.datetime(2024, 3, 1, 12, 30, tzinfo=dt.timezone.utc)
    files = tuple(FileInfo(i, f"f{i}.pdf", mime, 10 * i, "a" * 64, "b" * 32, role=role, access=access,
                           embargo_until=until, licence="https://creativecommons.org/licenses/by-nc/4.0/",
                           version=version, url=f"https://hylla.example.org/files/{i}/f{i}.pdf")
                  for i, (mime, role, access, until, version) in enumerate((
                      ("application/pdf", "fulltext", "open", None, "published"),
                      ("application/pdf", "fulltext", "embargoed", dt.date(2030, 1, 1), "accepted"),
                      ("text/csv", "supplementary", "open", None, None),
                      ("image/png", "thumbnail", "open", None, None),
                      ("application/zip", "supplementary", "restricted", None, None)), start=1))
    return Publication(
        id="900", publication_type="art", output_type="publication/review-article", content_type="ref",
        publication_status="epub-ahead-of-print",
        titles=(Title("Huvudtitel", "undertitel", "swe"), Title("Main title", "subtitle", "eng", "translated"),
                Title("Kortare titel", None, "swe", "alternative")),
        contributors=(
            Contributor("Öberg", "Åsa", orcid="0000-0002-1825-0097", local_id="u1abc", person_id=7,
                        affiliations=(unit, Affiliation("Karolinska Institutet", country="SE"))),
            Contributor("Berg", "Eva", roles=("aut", "edt"), affiliations=(unit,)),
            Contributor(given="Madonna"),
            Contributor(corporate_name="Hylla Consortium", roles=("aut",), local_id="c1", affiliations=(unit,)),
            Contributor("Ek", "Lars", roles=("ths",)), Contributor("Holm", "Eva", roles=("exm", "opn")),
            Contributor("Lund", "Ida", roles=("trl",)), Contributor("Ny", "Per", roles=("ctb", "pbl"))),
        abstracts=(LangText("Sammanfattning.", "swe"), LangText("Abstract.", "eng"), LangText("Ohne Sprache.")),
        keywords=(Keyword("ålgräs", "swe"), Keyword("Seagrass", "eng", "lcsh"),
                  Keyword("Life below water", "eng", "sdg")),
        subjects=(Subject("10501", "Climate Science", "Klimatvetenskap"), Subject("106"), Subject("1")),
        languages=("swe", "eng", "ger"),
        issued=PartialDate(2021, 5), accepted=dt.date(2021, 2, 1), online=dt.date(2021, 4, 2),
        host=HostItem("journal", "Journal of Things", "and stuff", "0171-8630", "1616-1599", ("978-3-16-148410-0",),
                      "12", "3", "e42", "101", "118",
                      (Contributor("Kim", "Lee", roles=("edt",), orcid="0000-0001-5109-3700"),), "Publisher", "Cham"),
        series=(Series("Series A", "0302-9743", "1616-1599", "12"), Series("Series B", number="2021:3")),
        conference=Conference("Conf", "Göteborg", dt.date(2022, 9, 5), dt.date(2022, 9, 5)),
        publisher="Own publisher", place="Uppsala", edition="2nd", extent="18 pages",
        identifiers=(Identifier("doi", "10.1234/abc"), Identifier("isbn", "978-91-513-1234-7", "print"),
                     Identifier("isbn", "978-91-513-1235-4", "online"), Identifier("issn", "0282-7298"),
                     Identifier("eissn", "1651-6214"), Identifier("pmid", "31234567"),
                     Identifier("isi", "000123456789012"), Identifier("scopus", "2-s2.0-85012345678"),
                     Identifier("arxiv", "2101.01234"), Identifier("handle", "1765/315"),
                     Identifier("urn", "urn:nbn:se:uu:hylla-900"), Identifier("libris", "123"),
                     Identifier("local", "L-1")),
        creator_count=9,
        funding=(Funding("European Research Council", "https://doi.org/10.13039/501100000781", "Seagrass",
                         "P-1", "G-1"),
                 Funding("Vetenskapsrådet", "https://ror.org/03zttf063"), Funding("Formas", "isni:0000000123")),
        licence="https://creativecommons.org/licenses/by-sa/4.0/",
        notes=(LangText("Anmärkning.", "swe"), LangText("Note.")),
        links=(Link("https://example.org/data", "Research data"), Link("https://example.org/x")),
        files=files,
        thesis=ThesisInfo("doctoral", "240 HE credits", "Filosofie doktor", "Biologi", stamp, "Sal A",
                          dt.date(2023, 4, 20), "Uppsala universitet"),
        related=(RelatedRecord("constituent", "Paper I", "101", "https://hylla.example.org/p/101",
                               (Identifier("doi", "10.1/p1"),)),
                 RelatedRecord("isVersionOf", "Preprint", url="https://arxiv.org/abs/2101.01234"),
                 RelatedRecord("reviewOf", "A book"), RelatedRecord("somethingNew", "Other thing")),
        org_units=(OrgUnitRef("kemi", "Institutionen för kemi", "uu:teknat:kemi"),),
        institution_code="uu", institution_name="Uppsala universitet",
        url="https://hylla.example.org/publications/900", oai_identifier="oai:hylla.example.org:900",
        created=stamp, updated=stamp, datestamp=stamp)
