"""Read-only queries behind the public pages: institutions, units, people and their publications."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from repository.db import session
from repository.errors import NotFound
from repository.models import Contributor, ContributorAffiliation, Institution, OrgUnit, Person, Publication
from repository.permissions import public_filter

PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Listing:
    publications: list[Publication]
    total: int


def _published_newest_first(limit: int) -> Select[tuple[Publication]]:
    return (select(Publication).where(public_filter())
            .order_by(Publication.issued_year.desc().nulls_last(), Publication.id.desc()).limit(limit))


def institutions() -> list[Institution]:
    return list(session.scalars(select(Institution).order_by(Institution.name)))


def institution_units(institution: Institution) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.institution_id == institution.id).order_by(OrgUnit.path)))


def get_institution(code: str) -> Institution:
    inst = session.scalar(select(Institution).where(Institution.code == code))
    if inst is None:
        raise NotFound(f"no institution {code!r}")
    return inst


def get_unit(unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(f"no organisation unit {unit_id}")
    return unit


def unit_children(unit: OrgUnit) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)))


def unit_ancestors(unit: OrgUnit) -> list[OrgUnit]:
    """From the top of the tree down to the unit's parent, by the unit's path."""
    codes = unit.path.split(":")
    paths = [":".join(codes[:i]) for i in range(2, len(codes))]
    if not paths:
        return []
    found = {u.path: u for u in session.scalars(select(OrgUnit).where(OrgUnit.path.in_(paths)))}
    return [found[p] for p in paths if p in found]


def unit_publications(unit: OrgUnit, limit: int = PAGE_SIZE) -> Listing:
    """Public records with an author affiliated to the unit or any unit below it."""
    units = select(OrgUnit.id).where((OrgUnit.path == unit.path) | OrgUnit.path.startswith(unit.path + ":"))
    ids = (select(Contributor.publication_id)
           .join(ContributorAffiliation, ContributorAffiliation.contributor_id == Contributor.id)
           .where(ContributorAffiliation.org_unit_id.in_(units)))
    query = _published_newest_first(limit).where(Publication.id.in_(ids))
    total = session.scalar(select(func.count()).select_from(Publication)
                           .where(public_filter(), Publication.id.in_(ids)))
    return Listing(list(session.scalars(query)), total or 0)


def get_person(person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return person


def person_publications(person: Person, limit: int = PAGE_SIZE) -> Listing:
    ids = select(Contributor.publication_id).where(Contributor.person_id == person.id)
    total = session.scalar(select(func.count()).select_from(Publication)
                           .where(public_filter(), Publication.id.in_(ids)))
    return Listing(list(session.scalars(_published_newest_first(limit).where(Publication.id.in_(ids)))), total or 0)


def institution_publications(institution: Institution, limit: int = PAGE_SIZE) -> Listing:
    query = _published_newest_first(limit).where(Publication.institution_id == institution.id)
    total = session.scalar(select(func.count()).select_from(Publication)
                           .where(public_filter(), Publication.institution_id == institution.id))
    return Listing(list(session.scalars(query)), total or 0)
