"""The publication record and the parts it is made of, rich enough for DiVA and SwePub without loss.

Repeating parts (titles, contributors, identifiers...) are rows of their own so they can be
indexed and searched; the host item (journal, book, proceedings) and the conference are columns
of the publication because a record has at most one of each.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from exports.readmodel import (
    CONTENT_TYPES, PUBLICATION_STATUSES, PUBLICATION_TYPES, RECORD_STATES, THESIS_LEVELS,
)
from repository.models.base import Base, UTCDateTime, utcnow
from repository.models.files import StoredFile
from repository.models.institutions import Institution, OrgUnit
from repository.models.people import Person


def _enum(values: tuple[str, ...], name: str) -> Enum:
    return Enum(*values, native_enum=False, length=max(len(v) for v in values), name=name)


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (
        # OAI-PMH walks the records in (datestamp, id) order; the other columns a page's rows need
        # (visibility and header facts) ride in the index, so a page reads no table rows.
        Index("ix_publications_oai_walk", "datestamp", "id", "state", "publication_type", "content_type",
              "institution_id", "public_from", "published_at"),
        Index("ix_publications_state_datestamp", "state", "datestamp"),
        Index("ix_publications_public_from", "public_from"),  # OAI-PMH counts the records scheduled for later
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(_enum(RECORD_STATES, "record_state"), default="draft")
    publication_type: Mapped[str] = mapped_column(_enum(PUBLICATION_TYPES, "publication_type"))
    output_type: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(_enum(CONTENT_TYPES, "content_type"))
    publication_status: Mapped[str] = mapped_column(
        _enum(PUBLICATION_STATUSES, "publication_status"), default="published")

    issued_year: Mapped[int | None] = mapped_column(Integer, index=True)
    issued_month: Mapped[int | None] = mapped_column(Integer)
    issued_day: Mapped[int | None] = mapped_column(Integer)
    accepted_date: Mapped[dt.date | None] = mapped_column(Date)
    online_date: Mapped[dt.date | None] = mapped_column(Date)

    publisher: Mapped[str | None] = mapped_column(String(500))
    place: Mapped[str | None] = mapped_column(String(255))
    edition: Mapped[str | None] = mapped_column(String(255))
    extent: Mapped[str | None] = mapped_column(String(255))
    creator_count: Mapped[int | None] = mapped_column(Integer)
    licence: Mapped[str | None] = mapped_column(String(255))

    host_kind: Mapped[str | None] = mapped_column(String(16))
    host_title: Mapped[str | None] = mapped_column(String(1000))
    host_subtitle: Mapped[str | None] = mapped_column(String(1000))
    host_issn: Mapped[str | None] = mapped_column(String(9), index=True)
    host_eissn: Mapped[str | None] = mapped_column(String(9))
    host_isbn: Mapped[str | None] = mapped_column(String(17))
    host_volume: Mapped[str | None] = mapped_column(String(64))
    host_issue: Mapped[str | None] = mapped_column(String(64))
    host_article_number: Mapped[str | None] = mapped_column(String(64))
    host_page_start: Mapped[str | None] = mapped_column(String(32))
    host_page_end: Mapped[str | None] = mapped_column(String(32))
    host_publisher: Mapped[str | None] = mapped_column(String(500))
    host_place: Mapped[str | None] = mapped_column(String(255))

    conference_name: Mapped[str | None] = mapped_column(String(1000))
    conference_place: Mapped[str | None] = mapped_column(String(255))
    conference_start: Mapped[dt.date | None] = mapped_column(Date)
    conference_end: Mapped[dt.date | None] = mapped_column(Date)

    urn_nbn: Mapped[str | None] = mapped_column(String(128), unique=True)
    submitter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Changes on every public change (publish, edit while public, withdraw): OAI-PMH harvests by it.
    datestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A published record is public only from this moment (a doctoral thesis from its nailing day):
    # every public query compares it with the clock, so no job has to flip anything on the day.
    public_from: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    institution: Mapped[Institution] = relationship(lazy="joined", innerjoin=True)
    titles: Mapped[list[PublicationTitle]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PublicationTitle.position")
    abstracts: Mapped[list[Abstract]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Abstract.id")
    keywords: Mapped[list[Keyword]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Keyword.position")
    subjects: Mapped[list[PublicationSubject]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PublicationSubject.position")
    languages: Mapped[list[PublicationLanguage]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PublicationLanguage.position")
    identifiers: Mapped[list[PublicationIdentifier]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PublicationIdentifier.id")
    contributors: Mapped[list[Contributor]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Contributor.position")
    series: Mapped[list[SeriesMembership]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="SeriesMembership.position")
    funding: Mapped[list[Funding]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Funding.id")
    notes: Mapped[list[Note]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Note.id")
    links: Mapped[list[Link]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Link.id")
    relations: Mapped[list[Relation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Relation.position",
        foreign_keys="Relation.publication_id")
    files: Mapped[list[StoredFile]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="StoredFile.position")
    thesis: Mapped[ThesisDetails | None] = relationship(
        cascade="all, delete-orphan", lazy="selectin", uselist=False)

    @property
    def main_title(self) -> str:
        for t in self.titles:
            if t.kind == "main":
                return t.title
        return self.titles[0].title if self.titles else ""

    @property
    def is_public(self) -> bool:
        return self.state == "published" and (self.public_from is None or self.public_from <= utcnow())


class _Part:
    """Columns shared by every repeating part of a publication."""

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), index=True)


class PublicationTitle(_Part, Base):
    __tablename__ = "publication_titles"

    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(_enum(("main", "translated", "alternative"), "title_kind"), default="main")
    title: Mapped[str] = mapped_column(Text)
    subtitle: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(3))


class Abstract(_Part, Base):
    __tablename__ = "publication_abstracts"

    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(3))


class Keyword(_Part, Base):
    __tablename__ = "publication_keywords"

    position: Mapped[int] = mapped_column(Integer, default=0)
    term: Mapped[str] = mapped_column(String(500))
    lang: Mapped[str | None] = mapped_column(String(3))
    scheme: Mapped[str | None] = mapped_column(String(32))


class PublicationSubject(_Part, Base):
    """An SSIF 2025 research subject code; labels come from the bundled vocabulary."""

    __tablename__ = "publication_subjects"
    __table_args__ = (UniqueConstraint("publication_id", "code"), Index("ix_publication_subjects_code", "code"))

    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(5))


class PublicationLanguage(_Part, Base):
    __tablename__ = "publication_languages"

    position: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str] = mapped_column(String(3))


class PublicationIdentifier(_Part, Base):
    __tablename__ = "publication_identifiers"
    __table_args__ = (Index("ix_publication_identifiers_scheme_value", "scheme", "value"),)

    scheme: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(500))
    qualifier: Mapped[str | None] = mapped_column(String(32))


class Contributor(_Part, Base):
    """A person or corporate body in roles on the work (scope ``work``) or on its host (``host``)."""

    __tablename__ = "contributors"

    position: Mapped[int] = mapped_column(Integer, default=0)
    scope: Mapped[str] = mapped_column(_enum(("work", "host"), "contributor_scope"), default="work")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), index=True)
    family_name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    corporate_name: Mapped[str | None] = mapped_column(String(500))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    orcid: Mapped[str | None] = mapped_column(String(19))
    local_id: Mapped[str | None] = mapped_column(String(64))

    person: Mapped[Person | None] = relationship(lazy="selectin")
    affiliations: Mapped[list[ContributorAffiliation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContributorAffiliation.position")

    def display_name(self) -> str:
        if self.corporate_name:
            return self.corporate_name
        return " ".join(p for p in (self.given_name, self.family_name) if p)


class ContributorAffiliation(Base):
    """An affiliation at the time of publication: one of our units, or free text for external people."""

    __tablename__ = "contributor_affiliations"

    id: Mapped[int] = mapped_column(primary_key=True)
    contributor_id: Mapped[int] = mapped_column(ForeignKey("contributors.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(500))
    country: Mapped[str | None] = mapped_column(String(2))

    org_unit: Mapped[OrgUnit | None] = relationship(lazy="selectin")


class SeriesMembership(_Part, Base):
    __tablename__ = "publication_series"

    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(1000))
    issn: Mapped[str | None] = mapped_column(String(9))
    eissn: Mapped[str | None] = mapped_column(String(9))
    number: Mapped[str | None] = mapped_column(String(64))


class Funding(_Part, Base):
    __tablename__ = "publication_funding"

    funder: Mapped[str] = mapped_column(String(500))
    funder_id: Mapped[str | None] = mapped_column(String(255))
    project_title: Mapped[str | None] = mapped_column(String(1000))
    project_id: Mapped[str | None] = mapped_column(String(255))
    grant_id: Mapped[str | None] = mapped_column(String(255))


class Note(_Part, Base):
    __tablename__ = "publication_notes"

    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(3))


class Link(_Part, Base):
    __tablename__ = "publication_links"

    url: Mapped[str] = mapped_column(String(2000))
    label: Mapped[str | None] = mapped_column(String(500))


class Relation(_Part, Base):
    """A link to another record, e.g. a constituent paper of a compilation thesis."""

    __tablename__ = "publication_relations"

    position: Mapped[int] = mapped_column(Integer, default=0)
    relation: Mapped[str] = mapped_column(String(32))
    related_id: Mapped[int | None] = mapped_column(ForeignKey("publications.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))


class ThesisDetails(Base):
    __tablename__ = "thesis_details"

    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(_enum(THESIS_LEVELS, "thesis_level"))
    credits: Mapped[str | None] = mapped_column(String(64))
    degree_name: Mapped[str | None] = mapped_column(String(255))
    programme: Mapped[str | None] = mapped_column(String(255))
    defence_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    defence_place: Mapped[str | None] = mapped_column(String(500))
    nailing_date: Mapped[dt.date | None] = mapped_column(Date)
    granting_institution: Mapped[str | None] = mapped_column(String(255))


__all__ = [
    "Publication", "PublicationTitle", "Abstract", "Keyword", "PublicationSubject", "PublicationLanguage",
    "PublicationIdentifier", "Contributor", "ContributorAffiliation", "SeriesMembership", "Funding", "Note",
    "Link", "Relation", "ThesisDetails", "utcnow",
]
