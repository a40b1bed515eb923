"""Turning a stored publication into the plain read model that exporters and OAI-PMH consume.

This is the only bridge between the stored tables and ``exports/``: serializers never query.
There is one mapping, ``assemble``, from a record's columns and parts to the read model; it
reads parts by their ORM attribute names, so it takes ORM objects (``to_read_model``, one
loaded record: the landing page, exports) and Core rows alike (``readmodels_bulk``, a batch
read with one query per part table: OAI-PMH pages). tests/unit/oai/test_read_models.py
checks record by record that both ways give equal read models.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from exports import readmodel as rm
from exports import vocabularies
from repository.models import Contributor, Publication


@dataclass(frozen=True, slots=True)
class Site:
    """What a record's URLs and identifiers are built from (from the app's configuration)."""

    base_url: str
    oai_namespace: str

    def landing_url(self, publication_id: int) -> str:
        return f"{self.base_url}/publications/{publication_id}"

    def file_url(self, file_id: int, filename: str) -> str:
        return f"{self.base_url}/files/{file_id}/{quote(filename)}"

    def oai_identifier(self, publication_id: int) -> str:
        return f"oai:{self.oai_namespace}:{publication_id}"


URN_RESOLVER = "https://urn.kb.se/resolve?urn="

# An affiliation as the read model has it, with the organisation unit it names (None for free text).
PlacedAffiliation = tuple[rm.Affiliation, rm.OrgUnitRef | None]


@dataclass(slots=True)
class Parts:
    """A record's repeating parts in their order, each an object with the ORM attribute names.

    ``contributors`` pairs each contributor (work and host scope) with its placed affiliations.
    """

    titles: list[Any] = field(default_factory=list)
    abstracts: list[Any] = field(default_factory=list)
    keywords: list[Any] = field(default_factory=list)
    subjects: list[Any] = field(default_factory=list)
    languages: list[Any] = field(default_factory=list)
    identifiers: list[Any] = field(default_factory=list)
    contributors: list[tuple[Any, Sequence[PlacedAffiliation]]] = field(default_factory=list)
    series: list[Any] = field(default_factory=list)
    funding: list[Any] = field(default_factory=list)
    notes: list[Any] = field(default_factory=list)
    links: list[Any] = field(default_factory=list)
    relations: list[Any] = field(default_factory=list)
    files: list[Any] = field(default_factory=list)
    thesis: Any = None


@functools.lru_cache(maxsize=8192)
def placed_affiliation(name: str, country: str | None, unit_code: str | None, unit_name: str | None,
                       unit_path: str | None, institution_code: str | None,
                       institution_domain: str | None) -> PlacedAffiliation:
    """An affiliation and its unit (the same few hundred repeat across a repository: made once each)."""
    affiliation = rm.Affiliation(name=name, unit_code=unit_code, unit_path=unit_path,
                                 institution_code=institution_code, institution_domain=institution_domain,
                                 country=country)
    unit = rm.OrgUnitRef(unit_code, unit_name, unit_path) if unit_path is not None else None
    return affiliation, unit


@functools.lru_cache(maxsize=8192)
def _subject(code: str) -> rm.Subject:
    return rm.Subject(code, *vocabularies.subject_labels(code))


def to_read_model(pub: Publication, site: Site) -> rm.Publication:
    """The read model of one record loaded through the ORM (its parts are ``selectin`` relationships)."""
    parts = Parts(
        titles=pub.titles, abstracts=pub.abstracts, keywords=pub.keywords, subjects=pub.subjects,
        languages=pub.languages, identifiers=pub.identifiers, series=pub.series, funding=pub.funding,
        notes=pub.notes, links=pub.links, relations=pub.relations, files=pub.files, thesis=pub.thesis,
        contributors=[(c, [_placed(a) for a in c.affiliations]) for c in pub.contributors])
    return assemble(pub, pub.institution.code, pub.institution.name, parts, site)


def _placed(a: Any) -> PlacedAffiliation:
    unit = a.org_unit
    if unit is None:
        return placed_affiliation(a.name, a.country, None, None, None, None, None)
    return placed_affiliation(a.name, a.country, unit.code, unit.name, unit.path, unit.institution.code,
                              unit.institution.domain)


def assemble(pub: Any, institution_code: str, institution_name: str, parts: Parts, site: Site) -> rm.Publication:
    """The read model from a record's publication columns (``pub``, by attribute name) and its parts."""
    identifiers = [rm.Identifier(i.scheme, i.value, i.qualifier) for i in parts.identifiers]
    if pub.urn_nbn:
        identifiers.append(rm.Identifier("urn", pub.urn_nbn))
        identifiers.append(rm.Identifier("uri", URN_RESOLVER + pub.urn_nbn))
    work = []
    editors = []
    units: dict[str, rm.OrgUnitRef] = {}
    for c, placed in parts.contributors:
        if c.scope == "work":
            work.append(_contributor(c, placed))
            for _, unit in placed:
                if unit is not None:
                    units[unit.path] = unit
        elif c.scope == "host":
            editors.append(_contributor(c, placed))
    pub_id = pub.id
    return rm.Publication(
        id=str(pub_id),
        publication_type=pub.publication_type,
        output_type=pub.output_type,
        content_type=pub.content_type,
        publication_status=pub.publication_status,
        titles=tuple([rm.Title(t.title, t.subtitle, t.lang, t.kind) for t in parts.titles]),
        contributors=tuple(work),
        abstracts=tuple([rm.LangText(a.text, a.lang) for a in parts.abstracts]),
        keywords=tuple([rm.Keyword(k.term, k.lang, k.scheme) for k in parts.keywords]),
        subjects=tuple([_subject(s.code) for s in parts.subjects]),
        languages=tuple([lang.code for lang in parts.languages]),
        issued=rm.PartialDate(pub.issued_year, pub.issued_month, pub.issued_day) if pub.issued_year else None,
        accepted=pub.accepted_date,
        online=pub.online_date,
        host=_host(pub, tuple(editors)),
        series=tuple([rm.Series(s.title, s.issn, s.eissn, s.number) for s in parts.series]),
        conference=(rm.Conference(pub.conference_name, pub.conference_place, pub.conference_start, pub.conference_end)
                    if pub.conference_name else None),
        publisher=pub.publisher,
        place=pub.place,
        edition=pub.edition,
        extent=pub.extent,
        identifiers=tuple(identifiers),
        creator_count=pub.creator_count,
        funding=tuple([rm.Funding(f.funder, f.funder_id, f.project_title, f.project_id, f.grant_id)
                       for f in parts.funding]),
        licence=pub.licence,
        notes=tuple([rm.LangText(n.text, n.lang) for n in parts.notes]),
        links=tuple([rm.Link(lk.url, lk.label) for lk in parts.links]),
        files=tuple([
            rm.FileInfo(f.id, f.original_filename, f.mime_type, f.size, f.sha256, f.md5, f.role, f.access,
                        f.embargo_until, f.licence, f.version, site.file_url(f.id, f.original_filename))
            for f in parts.files]),
        thesis=_thesis(parts.thesis),
        related=tuple([rm.RelatedRecord(r.relation, r.title, str(r.related_id) if r.related_id else None,
                                        site.landing_url(r.related_id) if r.related_id else r.url)
                       for r in parts.relations]),
        org_units=tuple(units.values()),
        institution_code=institution_code,
        institution_name=institution_name,
        url=site.landing_url(pub_id),
        oai_identifier=site.oai_identifier(pub_id),
        state="published" if pub.state == "published" else "deleted" if pub.state in ("withdrawn", "deleted") else pub.state,
        created=pub.created_at,
        updated=pub.updated_at,
        datestamp=pub.datestamp,
    )


def _contributor(c: Contributor | Any, placed: Sequence[PlacedAffiliation]) -> rm.Contributor:
    return rm.Contributor(
        family=c.family_name,
        given=c.given_name,
        corporate_name=c.corporate_name,
        roles=tuple(c.roles),
        orcid=c.orcid,
        local_id=c.local_id,
        person_id=c.person_id,
        affiliations=tuple([affiliation for affiliation, _ in placed]),
    )


def _host(pub: Any, editors: tuple[rm.Contributor, ...]) -> rm.HostItem | None:
    if not pub.host_title:
        return None
    return rm.HostItem(
        kind=pub.host_kind or "journal", title=pub.host_title, subtitle=pub.host_subtitle, issn=pub.host_issn,
        eissn=pub.host_eissn, isbns=(pub.host_isbn,) if pub.host_isbn else (), volume=pub.host_volume,
        issue=pub.host_issue, article_number=pub.host_article_number, page_start=pub.host_page_start,
        page_end=pub.host_page_end, editors=editors, publisher=pub.host_publisher, place=pub.host_place)


def _thesis(t: Any) -> rm.ThesisInfo | None:
    if t is None:
        return None
    return rm.ThesisInfo(t.level, t.credits, t.degree_name, t.programme, t.defence_at, t.defence_place,
                         t.nailing_date, t.granting_institution)


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()
