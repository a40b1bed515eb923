"""Finding person and organisation authority records by a few typed letters, for linking contributors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from repository.db import session
from repository.models import OrgUnit, Person, PersonNameForm

SEARCH_LIMIT = 20


def _patterns(text: str) -> set[str]:
    """LIKE patterns for "contains", with the user's own % and _ taken literally.

    SQLite's lower() and LIKE fold only ASCII letters, so "öberg" must also be tried as "Öberg".
    """
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {f"%{form}%" for form in (escaped.lower(), escaped, escaped[:1].upper() + escaped[1:].lower())}


def _contains(column: InstrumentedAttribute[Any], text: str) -> ColumnElement[bool]:
    return or_(*(func.lower(column).like(p, escape="\\") | column.like(p, escape="\\") for p in _patterns(text)))


def search_persons(query: str, limit: int = SEARCH_LIMIT) -> list[Person]:
    """People whose name (any of its forms), "given family" or ORCID contains every typed word."""
    words = query.split()
    if not words:
        return []
    statement = select(Person)
    for word in words:
        other_forms = select(PersonNameForm.person_id).where(or_(
            _contains(PersonNameForm.family_name, word), _contains(PersonNameForm.given_name, word)))
        statement = statement.where(or_(_contains(Person.family_name, word), _contains(Person.given_name, word),
                                        _contains(Person.orcid, word), Person.id.in_(other_forms)))
    return list(session.scalars(statement.order_by(Person.family_name, Person.given_name, Person.id).limit(limit)))


def search_units(query: str, institution_id: int | None = None, limit: int = SEARCH_LIMIT) -> list[OrgUnit]:
    """Organisation units whose name or code contains the typed text, at one institution or all."""
    text = query.strip()
    if not text:
        return []
    statement = select(OrgUnit).where(or_(_contains(OrgUnit.name, text), _contains(OrgUnit.name_sv, text),
                                          _contains(OrgUnit.code, text)))
    if institution_id is not None:
        statement = statement.where(OrgUnit.institution_id == institution_id)
    return list(session.scalars(statement.order_by(OrgUnit.path).limit(limit)))


def units_of(institution_id: int | None) -> list[OrgUnit]:
    """Every unit of an institution in tree order, for the affiliation choice of a linked person."""
    if institution_id is None:
        return []
    return list(session.scalars(select(OrgUnit).where(OrgUnit.institution_id == institution_id).order_by(OrgUnit.path)))
