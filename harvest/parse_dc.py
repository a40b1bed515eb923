"""OAI Dublin Core (``oai_dc``) records to the read model, as far as fifteen unqualified elements allow.

Dublin Core carries no organisation code, no content type and no record URI of SwePub's kind, so a
DC record usually fails several minimum-level rules; that is reported, not hidden. Types are
mapped from the DCMI, info:eu-repo and DiVA vocabularies to SVEP codes where the meaning is clear,
otherwise ``ovr``.
"""

from __future__ import annotations

import datetime as dt
import re

from lxml import etree

from exports import identifiers as ids
from exports.readmodel import (
    Contributor, HostItem, Identifier, Keyword, LangText, Publication, RelatedRecord, Title,
)
from harvest.parse_values import (
    find_date, free_text, identifier_value, is_open_access_statement, is_open_licence, language_code, plain_text,
)

DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# Checked in order against the lower-cased type (and the last segment of a URI-like type); the first
# word found decides (an empty code: this value names no type). Longer, more specific phrases come before the words they contain.
_TYPE_WORDS: tuple[tuple[str, str], ...] = (
    ("peerreviewed", ""), ("peer reviewed", ""), ("peer-reviewed", ""),  # a review status, not a type
    ("student thesis", "stud"), ("masterthesis", "stud"), ("bachelorthesis", "stud"), ("master thesis", "stud"),
    ("bachelor thesis", "stud"), ("studentthesis", "stud"),
    ("doctoralthesis", "dok"), ("doctoral thesis", "dok"), ("dissertation", "dok"),
    ("licentiatethesis", "lic"), ("licentiate thesis", "lic"),
    ("review/survey", "for"), ("reviewarticle", "for"), ("review article", "for"),
    ("bookreview", "rec"), ("book review", "rec"), ("review", "rec"),
    ("bookpart", "kap"), ("book chapter", "kap"), ("chapter", "kap"),
    ("conferenceproceedings", "pro"), ("conference proceedings", "pro"), ("proceedings", "pro"),
    ("conferenceobject", "kon"), ("conferencepaper", "kon"), ("conference paper", "kon"), ("conference", "kon"),
    ("collection (editor)", "sam"), ("edited book", "sam"),
    ("article", "art"), ("contributiontoperiodical", "art"),
    ("book", "bok"), ("monograph", "bok"),
    ("report", "rap"), ("workingpaper", "rap"), ("working paper", "rap"),
    ("patent", "pat"), ("artistic", "kfu"),
)
_HOST_TYPES = {"art": "journal", "for": "journal", "rec": "journal", "kap": "book"}
_ISSN = re.compile(r"^(?:issn:?\s*)?(\d{4}-?\d{3}[\dXx])$", re.IGNORECASE)


def _values(dc: etree._Element, name: str) -> list[tuple[str, etree._Element]]:
    return [(text, el) for el in dc.findall(f"{{{DC_NS}}}{name}") if (text := plain_text(el))]


def _lang(el: etree._Element) -> str | None:
    value = el.get(_XML_LANG)
    return language_code(value) if value else None


def publication_type(types: list[str]) -> str:
    """The SVEP code of the first DC type that names one, else ``ovr``."""
    for value in types:
        lowered = value.lower()
        tail = re.split(r"[/:#]", lowered.rstrip("/"))[-1]
        code = next((code for word, code in _TYPE_WORDS if word in lowered or word in tail), "")
        if code:
            return code
    return "ovr"


def person(text: str, role: str) -> Contributor:
    """"Family, Given" split at the first comma; a name without one is kept whole as the family name."""
    family, comma, given = (s.strip() for s in text.partition(","))
    return Contributor(family=family or None, given=(given or None) if comma else None, roles=(role,))


def identifier(text: str) -> Identifier | None:
    """A DC identifier recognised as a DOI, ISBN, ISSN, URN, handle or URL; None when it is none of these."""
    value = text.strip()
    lowered = value.lower()
    if lowered.startswith(("doi:", "10.")) or "doi.org/10." in lowered:
        return Identifier("doi", identifier_value("doi", value))
    if lowered.startswith("urn:nbn:"):
        return Identifier("urn", identifier_value("urn", value))
    if lowered.startswith(("hdl:", "info:hdl/")):
        return Identifier("handle", identifier_value("handle", value.split(":", 1)[1].removeprefix("hdl/")))
    if lowered.startswith(("http://", "https://")):
        return Identifier("uri", " ".join(value.split()).replace(" ", ""))
    issn = _ISSN.match(value)
    if issn:
        return Identifier("issn", identifier_value("issn", issn.group(1)))
    candidate = re.sub(r"^isbn:?\s*", "", value, flags=re.IGNORECASE)
    if ids.is_valid("isbn", candidate):
        return Identifier("isbn", identifier_value("isbn", candidate))
    return None


def read_dc(dc: etree._Element, *, oai_identifier: str, datestamp: dt.datetime | None) -> Publication:
    """The Publication one ``oai_dc:dc`` element describes."""
    titles = tuple(Title(t, lang=_lang(el), kind="main" if n == 0 else "alternative")
                   for n, (_, el) in enumerate(_values(dc, "title")) if (t := free_text(el)))
    contributors = tuple(person(text, "aut") for text, _ in _values(dc, "creator")) + tuple(
        person(text, "ctb") for text, _ in _values(dc, "contributor"))
    pub_type = publication_type([text for text, _ in _values(dc, "type")])
    found_ids = [i for text, _ in _values(dc, "identifier") if (i := identifier(text)) is not None]
    dates = [d for text, _ in _values(dc, "date") if (d := find_date(text)) is not None]
    sources = [free_text(el) for _, el in _values(dc, "source")]
    rights = [text for text, _ in _values(dc, "rights")]
    licence = next((r for r in rights if r.startswith(("http://", "https://"))), None)
    host = HostItem(_HOST_TYPES[pub_type], sources[0]) if sources and pub_type in _HOST_TYPES else None
    uris = [i.value for i in found_ids if i.scheme == "uri"]
    return Publication(
        id=oai_identifier,
        publication_type=pub_type,
        titles=titles,
        contributors=contributors,
        abstracts=tuple(LangText(t, _lang(el)) for _, el in _values(dc, "description")
                        if (t := free_text(el, paragraphs=True))),
        keywords=tuple(dict.fromkeys(Keyword(t, _lang(el)) for _, el in _values(dc, "subject") if (t := free_text(el)))),
        languages=tuple(dict.fromkeys(language_code(text) for text, _ in _values(dc, "language"))),
        issued=dates[0] if dates else None,
        host=host,
        publisher=next((text for text, _ in _values(dc, "publisher")), None),
        identifiers=tuple(dict.fromkeys(found_ids)),
        licence=licence,
        notes=tuple(LangText(f"Rights: {r}") for r in rights if r != licence),
        related=tuple(RelatedRecord("source", s) for s in sources[1 if host else 0:]),
        url=uris[0] if uris else None,
        oai_identifier=oai_identifier,
        datestamp=datestamp,
    )


def dc_open_access(dc: etree._Element) -> bool:
    """Whether ``dc:rights`` says the full text is open (info:eu-repo's openAccess, a CC licence)."""
    return any(is_open_access_statement(text) or is_open_licence(text) for text, _ in _values(dc, "rights"))
