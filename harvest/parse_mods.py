"""MODS and swepub_mods records (MODS 3.2-3.8 as real feeds write them) to the read model.

Reads every form listed in ``specs/swepub-mods-summary.md``: DiVA's older (3.2: ORCID in
``description``, local ids in ``xlink:href``, ``authority="hsv"`` subjects) and newer shapes
(3.7: ``nameIdentifier``, ``affiliation authority="kb.se"``, escaped HTML, output types), Lund's and
Chalmers' styles, and MODS 3.8 ``originInfo eventType="publication"`` with ``agent``. Values that
fail their syntax are kept as they came, for the field checks to flag; nothing is dropped silently
except DiVA's own genre vocabulary and identifier types SwePub does not read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from lxml import etree

from exports.identifiers import IDENTIFIER_SCHEMES
from exports.quality import Problem, is_blank
from exports.readmodel import (
    STUDENT_THESIS, SVEP_TYPES, THESIS_LEVELS, Funding, HostItem, Identifier, Keyword, LangText, Link, PartialDate,
    Publication, RelatedRecord, Series, Subject, ThesisInfo, Title,
)
from exports.vocabularies import OUTPUT_TYPE_BASE_URI, map_subject_code, subject_labels, svep_type_of
from harvest.parse_mods_names import XLINK_HREF, Kids, attr, child, children, lang_of, read_names, roles_of
from harvest.parse_values import (
    find_date, free_text, identifier_value, is_open_access_statement, is_open_licence, language_code, parse_datetime,
    plain_text,
)

_SSIF_AUTHORITIES = frozenset({"uka.se", "hsv", "ssif"})
_IGNORED_SUBJECT_AUTHORITIES = frozenset({"svep"})  # the pre-2011 SVEP subject codes
_NON_HOST_GENRES = frozenset({"project", "initiative", "grantagreement", "programme", "event", "dataset"})
_IDENTIFIER_ALIASES = {"hdl": "handle", "wos": "isi", "isi/wos": "isi", "pubmed": "pmid"}
_STATUSES = {"published": "published", "submitted": "submitted", "accepted": "accepted", "in press": "in-press",
             "epub ahead of print/online first": "epub-ahead-of-print", "epub ahead of print": "epub-ahead-of-print",
             "online first": "epub-ahead-of-print", "preprint": "preprint", "retracted": "retracted"}
STUDENT_LEVELS = frozenset(THESIS_LEVELS) - {"doctoral", "licentiate"}
_THESIS_LEVELS = {"dok": "doctoral", "lic": "licentiate", "publication/doctoral-thesis": "doctoral",
                  "publication/licentiate-thesis": "licentiate", "artistic-work/artistic-thesis": "doctoral"}


@dataclass
class _Origin:
    """The publication event of a record (the first ``originInfo`` that has each value) and its other dates."""

    issued: PartialDate | None = None
    publisher: str | None = None
    place: str | None = None
    edition: str | None = None
    defence: dt.datetime | None = None
    online: dt.date | None = None
    accepted: dt.date | None = None
    nailing: dt.date | None = None  # a doctoral thesis's electronic publication ("spikning")


@dataclass
class _Related:
    hosts: list[HostItem] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    others: list[RelatedRecord] = field(default_factory=list)


@dataclass
class _Notes:
    """What the typed ``note`` elements say, gathered before the record is built."""

    status: str = "published"
    creator_count: int | None = None
    degree: str | None = None
    venue: str | None = None
    level: str | None = None  # Hylla's thesisLevel note: what tells a student thesis from other theses
    credits: str | None = None
    programme: str | None = None
    funders: list[str] = field(default_factory=list)
    texts: list[LangText] = field(default_factory=list)


class ModsReader:
    """Builds one Publication from one ``mods:mods``, collecting the problems only parsing can see."""

    def __init__(self, mods: etree._Element, *, oai_identifier: str) -> None:
        self.mods = mods
        self.oai_identifier = oai_identifier
        self.problems: list[Problem] = []
        self.open_access = False  # a free full text or an open licence: known once read() has run
        top = Kids(mods)  # the reader asks for some thirty kinds of top-level element
        self._all, self._one = top.all, top.first

    def _problem(self, code: str, severity: str, path: str, message: str, name: str = "") -> None:
        self.problems.append(Problem(code, severity, path, message, name))

    # --- types ---------------------------------------------------------------------------------

    def _types(self) -> tuple[str, str | None, str | None]:
        svep: list[str] = []
        output: str | None = None
        content: str | None = None
        for genre in self._all("genre"):
            authority, kind, value = attr(genre, "authority"), attr(genre, "type"), plain_text(genre)
            if authority == "kb.se" and kind == "outputType":
                # The code as text, or only its URI (some feeds write the URI as the text, too).
                found = (value or attr(genre, "valueURI")).removeprefix(OUTPUT_TYPE_BASE_URI)
                output = output or found or None
            elif authority == "svep" and kind == "publicationType" and value:
                svep.append(value)
            elif authority == "svep" and kind == "contentType" and value:
                content = content or value
        known = [v for v in svep if v in SVEP_TYPES]
        if known:
            return known[0], output, content
        derived = svep_type_of(output) if output else None
        return derived or (svep[0] if svep else ""), output, content

    # --- titles, text, subjects ------------------------------------------------------------------

    def _titles(self) -> tuple[Title, ...]:
        titles: list[Title] = []
        for info in self._all("titleInfo"):
            main = free_text(child(info, "m:title"))
            non_sort = free_text(child(info, "m:nonSort"))
            if non_sort:
                main = f"{non_sort} {main}".strip()
            if is_blank(main):
                continue
            kind = attr(info, "type")
            kind = kind if kind in ("translated", "alternative") else "alternative" if kind else "main"
            if kind == "main" and any(t.kind == "main" for t in titles):
                kind = "alternative"
            titles.append(Title(main, free_text(child(info, "m:subTitle")) or None, lang_of(info), kind))
        return tuple(titles)

    def _subject_code(self, raw: str) -> Subject:
        try:
            code = map_subject_code(raw)
        except ValueError:
            return Subject(raw)  # kept for the field checks: unknown or legacy
        label_en, label_sv = subject_labels(code)
        return Subject(code, label_en, label_sv)

    def _subjects(self) -> tuple[tuple[Subject, ...], tuple[Keyword, ...]]:
        codes: dict[str, Subject] = {}
        keywords: list[Keyword] = []
        for subject in self._all("subject"):
            authority = attr(subject, "authority")
            code = attr(subject, XLINK_HREF) or attr(subject, "href") or attr(subject, "valueURI")
            if authority.lower() in _SSIF_AUTHORITIES and code:
                found = self._subject_code(code.rsplit("/", 1)[-1])
                codes.setdefault(found.code, found)
            elif authority.lower() not in _IGNORED_SUBJECT_AUTHORITIES:
                for topic in children(subject, "topic"):
                    term = free_text(topic)
                    if term:
                        keywords.append(Keyword(term, lang_of(subject), authority or None))
        for classification in self._all("classification"):
            code = plain_text(classification) or attr(classification, XLINK_HREF)
            if attr(classification, "authority").lower() == "ssif" and code:
                found = self._subject_code(code.rsplit("/", 1)[-1])
                codes.setdefault(found.code, found)
        return tuple(codes.values()), tuple(dict.fromkeys(keywords))

    def _languages(self) -> tuple[str, ...]:
        found = []
        for language in self._all("language"):
            if language.get("objectPart"):
                continue  # e.g. the language of a thesis defence, not of the work
            for term in children(language, "languageTerm"):
                if attr(term, "type") in ("code", "") and plain_text(term):
                    found.append(language_code(plain_text(term)))
        return tuple(dict.fromkeys(found))

    def _notes(self) -> _Notes:
        notes = _Notes()
        for note in self._all("note"):
            kind, text = attr(note, "type"), free_text(note, paragraphs=True)
            if not text:
                continue
            if kind == "publicationStatus":
                status = _STATUSES.get(text.lower())
                if status is None:
                    self._problem("publication_status_unknown", "warning", "publication_status",
                                  f"The publication status {text!r} is not one SwePub knows (Published, Submitted, "
                                  "Accepted, In press, Epub ahead of print/Online first, Preprint, Retracted).")
                notes.status = status or notes.status
            elif kind == "creatorCount":
                if text.strip().lstrip("-").isdigit():
                    notes.creator_count = int(text)
                else:
                    self._problem("creator_count_invalid", "error", "creator_count", f"The creator count {text!r} "
                                  "is not a whole number.", "creator_count")
            elif kind == "degree":
                notes.degree = notes.degree or text
            elif kind == "venue":
                notes.venue = notes.venue or text
            elif kind == "thesisLevel" and text in THESIS_LEVELS:
                notes.level = notes.level or text
            elif kind == "credits":
                notes.credits = notes.credits or text
            elif kind == "programme":
                notes.programme = notes.programme or text
            elif kind == "funder":
                notes.funders.append(text)
            else:
                notes.texts.append(LangText(text, lang_of(note)))
        return notes

    # --- origin, identifiers, related items -----------------------------------------------------

    def _publication_events(self) -> Iterator[etree._Element]:
        for origin in self._all("originInfo"):
            if attr(origin, "eventType") in ("", "publication"):
                yield origin

    def _origin(self) -> _Origin:
        found = _Origin()
        for origin in self._publication_events():
            issued_text = plain_text(child(origin, "m:dateIssued"))
            if issued_text and found.issued is None:
                found.issued = self._issued(issued_text)
            agents = [plain_text(agent.first("namePart")) for agent in map(Kids, children(origin, "agent"))
                      if "pbl" in roles_of(agent) or not agent.all("role")]
            publisher = plain_text(child(origin, "m:publisher")) or next((a for a in agents if a), "")
            place = next((plain_text(p) for p in children(origin, "place") if plain_text(p)), "")
            found.publisher = found.publisher or publisher or None
            found.place = found.place or place or None
            found.edition = found.edition or plain_text(child(origin, "m:edition")) or None
        for other in (d for o in self._all("originInfo") for d in children(o, "dateOther")):
            when = parse_datetime(plain_text(other))
            if attr(other, "type") == "defence":
                found.defence = found.defence or when
            elif attr(other, "type") == "online" and when is not None:
                found.online = found.online or when.date()
            elif attr(other, "type") == "accepted" and when is not None:
                found.accepted = found.accepted or when.date()
            elif attr(other, "type") == "nailing" and when is not None:
                found.nailing = found.nailing or when.date()
        return found

    def _issued(self, text: str) -> PartialDate | None:
        found = find_date(text)
        if found is None:
            self._problem("date_invalid", "error", "issued", f"The publication date {text!r} holds no year: write "
                          "it as YYYY or YYYY-MM-DD.", "publication_year")
        elif found.iso() != text.strip() and (found.month is None or found.day is not None):
            self._problem("date_format", "warning", "issued", f"The publication date {text!r} was read as "
                          f"{found.iso()}: SwePub wants YYYY or YYYY-MM-DD only.", "publication_year")
        return found

    @staticmethod
    def _identifiers(elements: list[etree._Element]) -> tuple[list[Identifier], dict[str, str]]:
        """Identifiers SwePub reads, plus the odd ones (article numbers, issue numbers) by type."""
        found: list[Identifier] = []
        other: dict[str, str] = {}
        for ident in elements:
            raw, kind = plain_text(ident), attr(ident, "type").lower()
            kind = _IDENTIFIER_ALIASES.get(kind, kind)
            label = attr(ident, "displayLabel").lower()
            if kind == "issn" and label == "eissn":
                kind = "eissn"
            if not raw:
                continue
            if kind in IDENTIFIER_SCHEMES:
                qualifier = {"electronic": "online"}.get(label, label) if kind == "isbn" and label else None
                found.append(Identifier(kind, identifier_value(kind, raw), qualifier))
            else:
                other.setdefault(kind, raw)
        return found, other

    def _host(self, item: etree._Element, pub_type: str) -> HostItem | None:
        idents, other = self._identifiers(children(item, "identifier"))
        title = free_text(child(item, "m:titleInfo/m:title"))
        details = {attr(d, "type").lower(): plain_text(child(d, "m:number")) or plain_text(child(d, "m:caption"))
                   for part in children(item, "part") for d in children(part, "detail")}
        extent = child(item, "m:part/m:extent")
        start, end = plain_text(child(extent, "m:start")) if extent is not None else "", ""
        if extent is not None:
            end = plain_text(child(extent, "m:end"))
            listed = plain_text(child(extent, "m:list"))
            if not start and listed:
                start, _, end = (s.strip() for s in listed.partition("-"))
        if "-" in start and not end:
            start, _, end = (s.strip() for s in start.partition("-"))
        if not (title or idents or any(details.values()) or start):
            return None
        editors = tuple(c for c in read_names(children(item, "name")).contributors if "edt" in c.roles)
        issns = [i.value for i in idents if i.scheme == "issn"]
        eissns = [i.value for i in idents if i.scheme == "eissn"] + issns[1:]
        isbns = tuple(i.value for i in idents if i.scheme == "isbn")
        origin = child(item, "m:originInfo")
        kind = "journal" if issns or eissns or pub_type in ("art", "for", "rec") else \
            "proceedings" if pub_type == "kon" else "book" if isbns or pub_type == "kap" else "other"
        return HostItem(kind=kind, title=title, subtitle=free_text(child(item, "m:titleInfo/m:subTitle")) or None,
                        issn=issns[0] if issns else None, eissn=eissns[0] if eissns else None, isbns=isbns,
                        volume=details.get("volume") or None, issue=details.get("issue") or None,
                        article_number=details.get("artno") or details.get("article") or other.get("articleid"),
                        page_start=start or None, page_end=end or None, editors=editors,
                        publisher=plain_text(child(origin, "m:publisher")) or None if origin is not None else None,
                        place=plain_text(child(origin, "m:place")) or None if origin is not None else None)

    def _series(self, item: etree._Element) -> Series | None:
        title = free_text(child(item, "m:titleInfo/m:title"))
        if not title:
            return None
        idents, other = self._identifiers(children(item, "identifier"))
        issns = [i.value for i in idents if i.scheme == "issn"]
        eissns = [i.value for i in idents if i.scheme == "eissn"]
        number = other.get("issue number") or plain_text(child(item, "m:part/m:detail/m:number")) or None
        return Series(title, issns[0] if issns else None, eissns[0] if eissns else None, number)

    def _related(self, pub_type: str) -> _Related:
        found = _Related()
        for item in self._all("relatedItem"):
            kind = attr(item, "type") or "related"
            genres = {plain_text(g).lower() for g in children(item, "genre")}
            if kind == "host" and not genres & _NON_HOST_GENRES:
                host = self._host(item, pub_type)
                found.hosts += [host] if host is not None else []
            elif kind == "series":
                series = self._series(item)
                found.series += [series] if series is not None else []
            elif title := free_text(child(item, "m:titleInfo/m:title")):
                # Project, grant and event "hosts" are not what the work is published in (SwePub's rule 12
                # exempts them), so they are kept as related records named by their genre.
                relation = next(iter(sorted(genres & _NON_HOST_GENRES)), kind) if kind == "host" else kind
                found.others.append(RelatedRecord(relation, title, url=attr(item, XLINK_HREF) or None,
                                                  identifiers=tuple(self._identifiers(children(item, "identifier"))[0])))
        return found

    def _access(self) -> tuple[str | None, list[LangText]]:
        licence, notes = None, []
        for condition in self._all("accessCondition"):
            kind, text, href = attr(condition, "type"), plain_text(condition), attr(condition, XLINK_HREF)
            if kind == "use and reproduction" and (href or text.startswith("http")):
                licence = licence or href or text
            elif (text or href) and kind in ("restriction on access", ""):
                # DiVA's untyped "gratis" says the full text is free: kept as a note like the typed ones.
                label = attr(condition, "displayLabel") or kind or "access condition"
                notes.append(LangText(f"{label.capitalize()}: {text or href}"))
            if is_open_access_statement(text) or is_open_access_statement(href):
                self.open_access = True
        if is_open_licence(licence):
            self.open_access = True
        return licence, notes

    def _links(self) -> tuple[Link, ...]:
        links = []
        for url in (u for location in self._all("location") for u in children(location, "url")):
            if address := plain_text(url):
                links.append(Link(address, attr(url, "displayLabel") or None))
                # DiVA and Hylla mark a full text anyone may read with note="free".
                self.open_access = self.open_access or attr(url, "note").lower() == "free"
        return tuple(links)

    # --- the record ------------------------------------------------------------------------------

    def _record_info(self) -> tuple[str | None, dt.datetime | None, dt.datetime | None]:
        info = self._one("recordInfo")
        if info is None:
            return None, None, None
        return (plain_text(child(info, "m:recordContentSource")) or None,
                parse_datetime(plain_text(child(info, "m:recordCreationDate"))),
                parse_datetime(plain_text(child(info, "m:recordChangeDate"))))

    def read(self, *, datestamp: dt.datetime | None) -> Publication:
        pub_type, output_type, content_type = self._types()
        names = read_names(self._all("name"))
        subjects, keywords = self._subjects()
        notes, origin = self._notes(), self._origin()
        if not pub_type and not output_type and notes.level in STUDENT_LEVELS:
            pub_type = STUDENT_THESIS  # no SVEP or KB type exists for it: Hylla says so with its thesis level
        identifiers, other_ids = self._identifiers(self._all("identifier"))
        related = self._related(pub_type)
        host = related.hosts[0] if related.hosts else None
        if host is not None and not host.article_number and "articleid" in other_ids:
            host = replace(host, article_number=other_ids["articleid"])
        licence, access_notes = self._access()
        level = _THESIS_LEVELS.get(output_type or "") or _THESIS_LEVELS.get(pub_type) or notes.level
        institution, created, updated = self._record_info()
        uris = [i.value for i in identifiers if i.scheme == "uri"]
        return Publication(
            id=self.oai_identifier,
            publication_type=pub_type,
            output_type=output_type,
            content_type=content_type,
            publication_status=notes.status,
            titles=self._titles(),
            contributors=tuple(names.contributors),
            abstracts=tuple(LangText(t, lang_of(a)) for a in self._all("abstract")
                            if (t := free_text(a, paragraphs=True))),
            keywords=keywords,
            subjects=subjects,
            languages=self._languages(),
            issued=origin.issued,
            online=origin.online,
            accepted=origin.accepted,
            host=host,
            series=tuple(related.series),
            conference=names.conference,
            publisher=origin.publisher,
            place=origin.place,
            edition=origin.edition,
            extent=plain_text(child(self._one("physicalDescription"), "m:extent")) or None,
            identifiers=tuple(identifiers),
            creator_count=notes.creator_count,
            funding=tuple(Funding(f) for f in notes.funders),
            licence=licence,
            notes=tuple(notes.texts + access_notes),
            links=self._links(),
            thesis=ThesisInfo(level, credits=notes.credits, degree_name=notes.degree, programme=notes.programme,
                              defence_at=origin.defence, defence_place=notes.venue,
                              nailing_date=origin.nailing) if level else None,
            related=tuple(related.others + [RelatedRecord("host", h.title) for h in related.hosts[1:]]),
            org_units=tuple(names.units.values()),
            institution_code=institution,
            url=uris[0] if uris else None,
            oai_identifier=self.oai_identifier,
            created=created,
            updated=updated,
            datestamp=datestamp,
        )
