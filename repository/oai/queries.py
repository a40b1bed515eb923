"""All of the provider's SQL: keyset pages on (datestamp, id), counts, set membership, and loading a page's records.

Paging is a keyset walk of the ``(datestamp, id)`` index: each page asks for the rows after the
last one sent (``WHERE (datestamp, id) > (:d, :i) ORDER BY datestamp, id LIMIT n``), so page
10,000 costs what page 1 costs and no OFFSET is ever used. On SQLite the page query names the
state column as ``+state``: without statistics SQLite's planner takes ``state = 'published'`` for a
selective condition, reads every published row through the state index and sorts them all for
each page; the unary plus (SQLite's documented way to keep a term off an index) leaves it the walk.

Datestamps as stored. SQLite keeps timestamps as text and compares them as text, and rows
written by different code carry different forms of the same second ("10:00:00" by the
sqlite3 adapter, "10:00:00.000000" by SQLAlchemy). So a page's position is the database's own
value, returned and compared as text on SQLite (the order the index has), and whole-second
``from``/``until`` bounds are written without a fraction, which sorts before every stored form
of that second. On PostgreSQL all of these are plain timestamps.

Set membership is SQL everywhere except SwePub's quality rule, see ``swepub_certain``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement, Select, String, and_, exists, func, literal, literal_column, not_, or_, select, true, tuple_,
    type_coerce,
)
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.visitors import replacement_traverse

from exports import quality
from exports.readmodel import CONTENT_TYPES, STUDENT_THESIS
from repository.models import (
    Contributor, ContributorAffiliation, Institution, OrgUnit, Publication, PublicationIdentifier,
    PublicationLanguage, PublicationTitle, StoredFile, UTCDateTime,
)
from repository.oai.arguments import DateRange
from repository.oai.sets import THESIS_TYPES, InstitutionRef, SetCatalogue, SetSelector, UnitRef
from repository.permissions import oai_filter

UTC = dt.timezone.utc
P = Publication
DELETED_STATES = ("withdrawn", "deleted")


@dataclass(frozen=True, slots=True)
class Row:
    """One record as a list request sees it: its position and the columns its header needs."""

    id: int
    position: str  # the stored datestamp as text: the keyset position a token carries
    datestamp: dt.datetime
    deleted: bool
    publication_type: str
    content_type: str | None
    institution_id: int


@dataclass(frozen=True, slots=True)
class ListFilter:
    """What a list request selects besides visibility: the datestamp range and the set."""

    dates: DateRange
    selector: SetSelector | None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def stored_datestamp(dialect: str) -> ColumnElement[Any]:
    return type_coerce(P.datestamp, String) if dialect == "sqlite" else P.datestamp


def _row(values: Any, dialect: str) -> Row:
    pub_id, stored, state, publication_type, content_type, institution_id = values
    if dialect == "sqlite":
        position, moment = stored, dt.datetime.fromisoformat(stored).replace(tzinfo=UTC)
    else:
        position, moment = stored.isoformat(), stored
    return Row(pub_id, position, moment, state in DELETED_STATES, publication_type, content_type, institution_id)


def _columns(dialect: str) -> Select[Any]:
    return select(P.id, stored_datestamp(dialect), P.state, P.publication_type, P.content_type, P.institution_id)


def _moment(value: dt.datetime, dialect: str) -> ColumnElement[Any]:
    """A whole-second bound: bare text on SQLite (below every stored form of that second), a timestamp elsewhere."""
    if dialect == "sqlite":
        return literal(value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "seconds"), String())
    return literal(value, UTCDateTime())


def _position(position: str, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return literal(position, String())
    return literal(dt.datetime.fromisoformat(position), UTCDateTime())


def _work_contributor_in_units(unit_ids: Collection[int]) -> ColumnElement[bool]:
    return exists().where(Contributor.publication_id == P.id, Contributor.scope == "work",
                          ContributorAffiliation.contributor_id == Contributor.id,
                          ContributorAffiliation.org_unit_id.in_(unit_ids))


def _open_fulltext(today: dt.date) -> ColumnElement[bool]:
    """Same rule as ``FileInfo.is_open_on``: open, or embargoed until a day that has come."""
    return exists().where(
        StoredFile.publication_id == P.id, StoredFile.role == "fulltext",
        or_(StoredFile.access == "open",
            and_(StoredFile.access == "embargoed", StoredFile.embargo_until.is_not(None),
                 StoredFile.embargo_until <= today)))


def set_clause(selector: SetSelector | None, today: dt.date) -> ColumnElement[bool]:
    """The SQL that selects a set's records, descendants included (exact, except SwePub: see module doc)."""
    if selector is None or selector.kind == "all":
        return true()
    if selector.kind == "type":
        return P.publication_type == selector.value
    if selector.kind == "content":
        return P.content_type == selector.value if selector.value else P.content_type.in_(CONTENT_TYPES)
    if selector.kind == "org":
        clauses = []
        if selector.institution_id is not None:
            clauses.append(P.institution_id == selector.institution_id)
        if selector.unit_ids:
            clauses.append(_work_contributor_in_units(selector.unit_ids))
        return or_(*clauses)
    if selector.kind == "openaccess":
        return _open_fulltext(today)
    if selector.kind == "theses":
        return P.publication_type.in_(THESIS_TYPES)
    if selector.kind == "swepub":
        # Who may be in the set; the quality rule is applied to each row afterwards.
        return and_(P.institution_id == selector.institution_id, P.publication_type != STUDENT_THESIS)
    raise ValueError(f"unknown set selector kind {selector.kind!r}")


def _where(session: Session, now: dt.datetime, flt: ListFilter) -> list[ColumnElement[bool]]:
    dialect = _dialect(session)
    clauses = [oai_filter(now), set_clause(flt.selector, now.astimezone(UTC).date())]
    if flt.dates.start is not None:
        clauses.append(P.datestamp >= _moment(flt.dates.start, dialect))
    if flt.dates.end is not None:
        clauses.append(P.datestamp < _moment(flt.dates.end, dialect))
    return clauses


def page(session: Session, now: dt.datetime, flt: ListFilter, after: tuple[str, int] | None,
         limit: int) -> list[Row]:
    """Up to ``limit`` rows after position ``after``, in (datestamp, id) order: one index walk."""
    dialect = _dialect(session)
    where = _where(session, now, flt)
    if dialect == "sqlite":
        where = [_off_state_index(clause) for clause in where]
    stmt = _columns(dialect).where(*where)
    if after is not None:
        stmt = stmt.where(tuple_(P.datestamp, P.id) > tuple_(_position(after[0], dialect), literal(after[1])))
    stmt = stmt.order_by(P.datestamp, P.id).limit(limit)
    return [_row(values, dialect) for values in session.execute(stmt)]


_PLUS_STATE = literal_column("+publications.state", String())


def _off_state_index(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """``clause`` with every ``publications.state`` written ``+publications.state`` (same meaning, no index)."""
    def swap(element: Any) -> Any:
        if getattr(element, "table", None) is P.__table__ and getattr(element, "name", None) == "state":
            return _PLUS_STATE
        return None

    return replacement_traverse(clause, {}, swap)


def count(session: Session, now: dt.datetime, flt: ListFilter) -> int:
    return session.execute(select(func.count()).select_from(P).where(*_where(session, now, flt))).scalar_one()


def find(session: Session, now: dt.datetime, publication_id: int) -> Row | None:
    """The record with this id if OAI-PMH may show it (public, or deleted after being public)."""
    dialect = _dialect(session)
    values = session.execute(_columns(dialect).where(P.id == publication_id, oai_filter(now))).first()
    return _row(values, dialect) if values is not None else None


def earliest_datestamp(session: Session, now: dt.datetime) -> dt.datetime | None:
    """The smallest datestamp of any record OAI-PMH shows (None in an empty repository)."""
    rows = page(session, now, ListFilter(DateRange(None, None), None), None, 1)
    return rows[0].datestamp if rows else None


def catalogue(session: Session) -> SetCatalogue:
    institutions = [InstitutionRef(*r) for r in session.execute(
        select(Institution.id, Institution.code, Institution.name).order_by(Institution.id))]
    units = [UnitRef(*r) for r in session.execute(
        select(OrgUnit.id, OrgUnit.institution_id, OrgUnit.path, OrgUnit.name).order_by(OrgUnit.id))]
    return SetCatalogue(institutions, units)


def units_of(session: Session, ids: Collection[int]) -> dict[int, frozenset[int]]:
    """The organisation units each record's contributors were affiliated with (its ``org`` sets)."""
    found: dict[int, set[int]] = {}
    if ids:
        for pub_id, unit_id in session.execute(
                select(Contributor.publication_id, ContributorAffiliation.org_unit_id)
                .join(ContributorAffiliation, ContributorAffiliation.contributor_id == Contributor.id)
                .where(Contributor.publication_id.in_(ids), Contributor.scope == "work",
                       ContributorAffiliation.org_unit_id.is_not(None))):
            found.setdefault(pub_id, set()).add(unit_id)
    return {k: frozenset(v) for k, v in found.items()}


def open_access(session: Session, ids: Collection[int], today: dt.date) -> set[int]:
    if not ids:
        return set()
    return set(session.scalars(select(P.id).where(P.id.in_(ids), _open_fulltext(today))))


# -- SwePub's minimum level, as far as SQL can decide it exactly ----------------------------------
#
# ``exports.quality.minimum_level`` treats a value made only of punctuation and white space as
# missing, and reads contributor roles from a JSON list. SQL cannot say "only punctuation and
# Unicode white space" the way Python's str.strip does, but it can say "has an ASCII letter or
# digit", which is enough to know a value is present. So SQL decides that a record certainly
# passes (every rule satisfied by such evidence), and every other record is judged by the Python
# rule itself on its read model. Membership is therefore exactly ``minimum_level``'s verdict, and
# SQL saves building read models for nearly every record. tests/unit/oai/test_sets.py checks the
# agreement record by record.


def _alnum(column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """True when ``column`` holds an ASCII letter or digit (so SwePub cannot find it blank)."""
    if dialect == "sqlite":
        return func.glob("*[A-Za-z0-9]*", column) == 1
    return column.op("~")("[A-Za-z0-9]")


def _has_role(roles: Iterable[str], dialect: str) -> ColumnElement[bool]:
    function = func.json_each if dialect == "sqlite" else func.json_array_elements_text
    values = function(Contributor.roles).table_valued("value").alias("contributor_role")
    return exists(select(1).select_from(values).where(values.c.value.in_(list(roles))))


def _swepub_passes(dialect: str) -> ColumnElement[bool]:
    output = func.coalesce(P.output_type, "")
    unpublished = P.publication_status.in_(sorted(quality._UNPUBLISHED))
    creator = or_(
        P.publication_type == "kfu", output.like("artistic-work%"),
        exists().where(Contributor.publication_id == P.id, Contributor.scope == "work",
                       ContributorAffiliation.contributor_id == Contributor.id,
                       ContributorAffiliation.org_unit_id.is_not(None)),
        exists().where(Contributor.publication_id == P.id, Contributor.scope == "work",
                       Contributor.corporate_name.is_(None),
                       or_(_alnum(Contributor.family_name, dialect), _alnum(Contributor.given_name, dialect)),
                       _has_role(sorted(quality._CREATOR_ROLES), dialect)))
    title = exists().where(PublicationTitle.publication_id == P.id, _alnum(PublicationTitle.title, dialect))
    content = or_(P.content_type.in_(CONTENT_TYPES), P.publication_type.in_(sorted(quality._NO_CONTENT_TYPE_SVEP)),
                  *(output.like(f"{prefix}%") for prefix in quality._NO_CONTENT_TYPE_OUTPUT))
    issued = or_(and_(P.issued_year.is_not(None), P.issued_year != 0), unpublished,
                 output == "publication/preprint")
    uri = or_(and_(P.urn_nbn.is_not(None), P.urn_nbn != ""),
              exists().where(PublicationIdentifier.publication_id == P.id, PublicationIdentifier.scheme == "uri",
                             _alnum(PublicationIdentifier.value, dialect)))
    language = exists().where(PublicationLanguage.publication_id == P.id,
                              _alnum(PublicationLanguage.code, dialect))
    host_required = or_(P.publication_type.in_(sorted(quality._HOST_REQUIRED_SVEP)),
                        output.in_(sorted(quality._HOST_REQUIRED_OUTPUT)))
    host_given = or_(not_(host_required), unpublished, func.coalesce(_alnum(P.host_title, dialect), False))
    host_forbidden = or_(P.publication_type.in_(sorted(quality._HOST_FORBIDDEN_SVEP)),
                         output.in_(sorted(quality._HOST_FORBIDDEN_OUTPUT)))
    no_host = or_(not_(host_forbidden), P.host_title.is_(None), P.host_title == "")
    return and_(creator, title, content, issued, uri, language, host_given, no_host)


def swepub_certain(session: Session, ids: Collection[int]) -> set[int]:
    """Those of ``ids`` that SQL can tell pass SwePub's minimum level (rule 01 is the catalogue's)."""
    if not ids:
        return set()
    return set(session.scalars(select(P.id).where(P.id.in_(ids), _swepub_passes(_dialect(session)))))


def record_uri_certain(session: Session, ids: Collection[int]) -> set[int]:
    """Those of ``ids`` whose swepub_mods URI is surely their URN:NBN's (no uri/urn identifiers to weigh)."""
    if not ids:
        return set()
    return set(session.scalars(select(P.id).where(
        P.id.in_(ids), P.urn_nbn.is_not(None), P.urn_nbn != "",
        not_(exists().where(PublicationIdentifier.publication_id == P.id,
                            PublicationIdentifier.scheme.in_(("uri", "urn")))))))


def load_publications(session: Session, ids: Collection[int]) -> dict[int, Publication]:
    """Records with every part the read model needs, in a constant number of queries (one per relationship).

    The relationships are ``selectin``, so each part is one ``IN`` query for the whole page; the
    contributors' person records are not needed (the read model copies names onto contributors)
    and are refused rather than loaded one by one.
    """
    if not ids:
        return {}
    stmt = (select(Publication).where(Publication.id.in_(ids))
            .options(selectinload(Publication.contributors).raiseload(Contributor.person)))
    return {pub.id: pub for pub in session.scalars(stmt)}
