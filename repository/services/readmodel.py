"""Turning a stored publication into the plain read model that exporters and OAI-PMH consume.

This is the only bridge between the ORM and ``exports/``: serializers never query, so the
caller loads the record with its parts (the relationships are ``selectin``) before calling.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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


def to_read_model(pub: Publication, site: Site) -> rm.Publication:
    institution = pub.institution
    identifiers = [rm.Identifier(i.scheme, i.value, i.qualifier) for i in pub.identifiers]
    if pub.urn_nbn:
        identifiers.append(rm.Identifier("urn", pub.urn_nbn))
        identifiers.append(rm.Identifier("uri", URN_RESOLVER + pub.urn_nbn))
    work = [c for c in pub.contributors if c.scope == "work"]
    editors = tuple(_contributor(c, institution.domain) for c in pub.contributors if c.scope == "host")
    units = {}
    for c in work:
        for a in c.affiliations:
            if a.org_unit is not None:
                units[a.org_unit.path] = rm.OrgUnitRef(a.org_unit.code, a.org_unit.name, a.org_unit.path)
    return rm.Publication(
        id=str(pub.id),
        publication_type=pub.publication_type,
        output_type=pub.output_type,
        content_type=pub.content_type,
        publication_status=pub.publication_status,
        titles=tuple(rm.Title(t.title, t.subtitle, t.lang, t.kind) for t in pub.titles),
        contributors=tuple(_contributor(c, institution.domain) for c in work),
        abstracts=tuple(rm.LangText(a.text, a.lang) for a in pub.abstracts),
        keywords=tuple(rm.Keyword(k.term, k.lang, k.scheme) for k in pub.keywords),
        subjects=tuple(rm.Subject(s.code, *vocabularies.subject_labels(s.code)) for s in pub.subjects),
        languages=tuple(lang.code for lang in pub.languages),
        issued=rm.PartialDate(pub.issued_year, pub.issued_month, pub.issued_day) if pub.issued_year else None,
        accepted=pub.accepted_date,
        online=pub.online_date,
        host=_host(pub, editors),
        series=tuple(rm.Series(s.title, s.issn, s.eissn, s.number) for s in pub.series),
        conference=(rm.Conference(pub.conference_name, pub.conference_place, pub.conference_start, pub.conference_end)
                    if pub.conference_name else None),
        publisher=pub.publisher,
        place=pub.place,
        edition=pub.edition,
        extent=pub.extent,
        identifiers=tuple(identifiers),
        creator_count=pub.creator_count,
        funding=tuple(rm.Funding(f.funder, f.funder_id, f.project_title, f.project_id, f.grant_id) for f in pub.funding),
        licence=pub.licence,
        notes=tuple(rm.LangText(n.text, n.lang) for n in pub.notes),
        links=tuple(rm.Link(lk.url, lk.label) for lk in pub.links),
        files=tuple(
            rm.FileInfo(f.id, f.original_filename, f.mime_type, f.size, f.sha256, f.md5, f.role, f.access,
                        f.embargo_until, f.licence, f.version, site.file_url(f.id, f.original_filename))
            for f in pub.files),
        thesis=_thesis(pub),
        related=tuple(rm.RelatedRecord(r.relation, r.title, str(r.related_id) if r.related_id else None,
                                       site.landing_url(r.related_id) if r.related_id else r.url)
                      for r in pub.relations),
        org_units=tuple(units.values()),
        institution_code=institution.code,
        institution_name=institution.name,
        url=site.landing_url(pub.id),
        oai_identifier=site.oai_identifier(pub.id),
        state="published" if pub.state == "published" else "deleted" if pub.state in ("withdrawn", "deleted") else pub.state,
        created=pub.created_at,
        updated=pub.updated_at,
        datestamp=pub.datestamp,
    )


def _contributor(c: Contributor, institution_domain: str | None) -> rm.Contributor:
    return rm.Contributor(
        family=c.family_name,
        given=c.given_name,
        corporate_name=c.corporate_name,
        roles=tuple(c.roles),
        orcid=c.orcid,
        local_id=c.local_id,
        person_id=c.person_id,
        affiliations=tuple(
            rm.Affiliation(
                name=a.name,
                unit_code=a.org_unit.code if a.org_unit else None,
                unit_path=a.org_unit.path if a.org_unit else None,
                institution_code=a.org_unit.institution.code if a.org_unit else None,
                institution_domain=a.org_unit.institution.domain if a.org_unit else None,
                country=a.country,
            )
            for a in c.affiliations
        ),
    )


def _host(pub: Publication, editors: tuple[rm.Contributor, ...]) -> rm.HostItem | None:
    if not pub.host_title:
        return None
    return rm.HostItem(
        kind=pub.host_kind or "journal", title=pub.host_title, subtitle=pub.host_subtitle, issn=pub.host_issn,
        eissn=pub.host_eissn, isbns=(pub.host_isbn,) if pub.host_isbn else (), volume=pub.host_volume,
        issue=pub.host_issue, article_number=pub.host_article_number, page_start=pub.host_page_start,
        page_end=pub.host_page_end, editors=editors, publisher=pub.host_publisher, place=pub.host_place)


def _thesis(pub: Publication) -> rm.ThesisInfo | None:
    t = pub.thesis
    if t is None:
        return None
    return rm.ThesisInfo(t.level, t.credits, t.degree_name, t.programme, t.defence_at, t.defence_place,
                         t.nailing_date, t.granting_institution)


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()
