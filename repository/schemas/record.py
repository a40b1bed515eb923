"""A stored publication shaped as JSON: the same shape ``PublicationSchema`` loads, plus the record's state.

Dumping a record and loading the result gives the same record back, which is what lets the
deposit steps and API clients change one part and send the whole record again.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from exports.readmodel import PartialDate
from repository.models import Publication

_HOST_FIELDS = ("kind", "title", "subtitle", "issn", "eissn", "isbn", "volume", "issue", "article_number",
                "page_start", "page_end", "publisher", "place")


class _Out(Schema):
    class Meta:
        ordered = True


class TitleOut(_Out):
    title = fields.String()
    subtitle = fields.String(allow_none=True)
    lang = fields.String(allow_none=True)
    kind = fields.String()


class LangTextOut(_Out):
    text = fields.String()
    lang = fields.String(allow_none=True)


class KeywordOut(_Out):
    term = fields.String()
    lang = fields.String(allow_none=True)
    scheme = fields.String(allow_none=True)


class IdentifierOut(_Out):
    scheme = fields.String()
    value = fields.String()
    qualifier = fields.String(allow_none=True)


class AffiliationOut(_Out):
    org_unit_id = fields.Integer(allow_none=True)
    name = fields.String()
    country = fields.String(allow_none=True)


class ContributorOut(_Out):
    family = fields.String(attribute="family_name", allow_none=True)
    given = fields.String(attribute="given_name", allow_none=True)
    corporate_name = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    orcid = fields.String(allow_none=True)
    local_id = fields.String(allow_none=True)
    person_id = fields.Integer(allow_none=True)
    scope = fields.String()
    affiliations = fields.List(fields.Nested(AffiliationOut))


class SeriesOut(_Out):
    title = fields.String()
    issn = fields.String(allow_none=True)
    eissn = fields.String(allow_none=True)
    number = fields.String(allow_none=True)


class FundingOut(_Out):
    funder = fields.String()
    funder_id = fields.String(allow_none=True)
    project_title = fields.String(allow_none=True)
    project_id = fields.String(allow_none=True)
    grant_id = fields.String(allow_none=True)


class LinkOut(_Out):
    url = fields.String()
    label = fields.String(allow_none=True)


class RelationOut(_Out):
    relation = fields.String()
    title = fields.String()
    related_id = fields.Integer(allow_none=True)
    url = fields.String(allow_none=True)


class ThesisOut(_Out):
    level = fields.String()
    credits = fields.String(allow_none=True)
    degree_name = fields.String(allow_none=True)
    programme = fields.String(allow_none=True)
    defence_at = fields.AwareDateTime(allow_none=True)
    defence_place = fields.String(allow_none=True)
    nailing_date = fields.Date(allow_none=True)
    granting_institution = fields.String(allow_none=True)


def _issued(pub: Publication) -> str | None:
    if pub.issued_year is None:
        return None
    return PartialDate(pub.issued_year, pub.issued_month, pub.issued_day).iso()


def _host(pub: Publication) -> dict[str, Any] | None:
    if not pub.host_title:
        return None
    return {name: getattr(pub, f"host_{name}") for name in _HOST_FIELDS}


def _conference(pub: Publication) -> dict[str, Any] | None:
    if not pub.conference_name:
        return None
    return {"name": pub.conference_name, "place": pub.conference_place,
            "start": pub.conference_start.isoformat() if pub.conference_start else None,
            "end": pub.conference_end.isoformat() if pub.conference_end else None}


class PublicationData(_Out):
    """The metadata of a record in the input shape of ``PublicationSchema``."""

    publication_type = fields.String()
    output_type = fields.String(allow_none=True)
    content_type = fields.String(allow_none=True)
    publication_status = fields.String()
    titles = fields.List(fields.Nested(TitleOut))
    abstracts = fields.List(fields.Nested(LangTextOut))
    keywords = fields.List(fields.Nested(KeywordOut))
    subjects = fields.Function(lambda pub: [s.code for s in pub.subjects])
    languages = fields.Function(lambda pub: [lang.code for lang in pub.languages])
    issued = fields.Function(_issued)
    accepted = fields.Date(attribute="accepted_date", allow_none=True)
    online = fields.Date(attribute="online_date", allow_none=True)
    host = fields.Function(_host)
    conference = fields.Function(_conference)
    series = fields.List(fields.Nested(SeriesOut))
    publisher = fields.String(allow_none=True)
    place = fields.String(allow_none=True)
    edition = fields.String(allow_none=True)
    extent = fields.String(allow_none=True)
    creator_count = fields.Integer(allow_none=True)
    licence = fields.String(allow_none=True)
    identifiers = fields.List(fields.Nested(IdentifierOut))
    contributors = fields.List(fields.Nested(ContributorOut))
    funding = fields.List(fields.Nested(FundingOut))
    notes = fields.List(fields.Nested(LangTextOut))
    links = fields.List(fields.Nested(LinkOut))
    related = fields.List(fields.Nested(RelationOut), attribute="relations")
    thesis = fields.Nested(ThesisOut, allow_none=True)


def publication_data(pub: Publication) -> dict[str, Any]:
    """The record's metadata as input: change a part of it and pass it to ``update_publication``."""
    return PublicationData().dump(pub)
