"""The provider's SQL: keyset pages on (datestamp, id), counts, set membership and a page's facts.

(A page's records are read by ``repository.services.readmodels_bulk``, shared with other batch readers.)

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

Set membership is SQL everywhere except SwePub's quality rule, see ``page_facts``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement, CompoundSelect, Date, Integer, Select, String, Text, and_, bindparam, cast, exists, func, literal,
    literal_column, not_, null, or_, select, true, tuple_, type_coerce, union_all,
)
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable
from sqlalchemy.sql.visitors import replacement_traverse

from exports import quality
from exports.readmodel import CONTENT_TYPES, RECORD_STATES, STUDENT_THESIS
from repository.models import (
    Contributor, ContributorAffiliation, Institution, OrgUnit, Publication, PublicationIdentifier,
    PublicationLanguage, PublicationTitle, StoredFile, UTCDateTime,
)
from repository.oai.arguments import DateRange
from repository.oai.sets import THESIS_TYPES, InstitutionRef, SetCatalogue, SetSelector, UnitRef
from repository.permissions import oai_filter
from repository.services.readmodels_bulk import among, id_list

UTC = dt.timezone.utc
P = Publication
DELETED_STATES = ("withdrawn", "deleted")
# States never shown (published and deleted records may be, depending on their moments).
HIDDEN_STATES = tuple(state for state in RECORD_STATES if state != "published" and state not in DELETED_STATES)


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


def _run(session: Session, statement: Executable, values: dict[str, Any] | None = None) -> CursorResult[Any]:
    """Run a Core statement on the session's connection: through the Session itself, a select of
    mapped columns goes through the ORM's result machinery, which costs more than the query."""
    return session.connection().execute(statement, values)


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


def _open_file(today: dt.date | BindParameter[Any]) -> ColumnElement[bool]:
    """A full text open on ``today`` (``FileInfo.is_open_on``): open, or embargoed until a day that has come."""
    return and_(StoredFile.role == "fulltext",
                or_(StoredFile.access == "open",
                    and_(StoredFile.access == "embargoed", StoredFile.embargo_until.is_not(None),
                         StoredFile.embargo_until <= today)))


def _open_fulltext(today: dt.date) -> ColumnElement[bool]:
    return exists().where(StoredFile.publication_id == P.id, _open_file(today))


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


def _set_filter(selector: SetSelector | None, today: dt.date) -> ColumnElement[bool] | None:
    return None if selector is None or selector.kind == "all" else set_clause(selector, today)


def _date_clauses(dates: DateRange, dialect: str) -> list[ColumnElement[bool]]:
    clauses = []
    if dates.start is not None:
        clauses.append(P.datestamp >= _moment(dates.start, dialect))
    if dates.end is not None:
        clauses.append(P.datestamp < _moment(dates.end, dialect))
    return clauses


def _where(session: Session, now: dt.datetime, flt: ListFilter) -> list[ColumnElement[bool]]:
    dialect = _dialect(session)
    return [oai_filter(now), set_clause(flt.selector, now.astimezone(UTC).date()),
            *_date_clauses(flt.dates, dialect)]


def page(session: Session, now: dt.datetime, flt: ListFilter, after: tuple[str, int] | None,
         limit: int) -> list[Row]:
    """Up to ``limit`` rows after position ``after``, in (datestamp, id) order: one index walk."""
    dialect = _dialect(session)
    where = _where(session, now, flt)
    if dialect == "sqlite":
        where = [off_state_index(clause) for clause in where]
    stmt = _columns(dialect).where(*where)
    if after is not None:
        stmt = stmt.where(tuple_(P.datestamp, P.id) > tuple_(_position(after[0], dialect), literal(after[1])))
    stmt = stmt.order_by(P.datestamp, P.id).limit(limit)
    return [_row(values, dialect) for values in _run(session, stmt).all()]


_PLUS_STATE = literal_column("+publications.state", String())


def off_state_index(clause: ColumnElement[bool]) -> ColumnElement[bool]:
    """``clause`` with every ``publications.state`` written ``+publications.state`` (same meaning, no index)."""
    def swap(element: Any) -> Any:
        if getattr(element, "table", None) is P.__table__ and getattr(element, "name", None) == "state":
            return _PLUS_STATE
        return None

    return replacement_traverse(clause, {}, swap)


def count(session: Session, now: dt.datetime, flt: ListFilter) -> int:
    """How many records the list has now: the rows of its set and dates, less those OAI-PMH does not show.

    Counting the shown rows directly makes the database test every row against the visibility
    rule (on SQLite, an OR over two index ranges merged row by row: 418 ms at 100,000 records).
    The subtraction asks only questions an index answers: all rows of the range (SQLite counts a
    whole table from its smallest index without reading rows), then the few hidden ones through
    the state index (drafts, submissions, returned records, records withdrawn before they were
    ever public) and the ``public_from`` index (records scheduled for later). Exact; it is still
    a count of every row of the list (on PostgreSQL an index-only scan), which is why it is made
    once, on the first page, and carried in the resumption token.

    Sets that depend on other tables (``org`` sets with units, ``openaccess``) are counted exactly
    too, with the same clause the pages use, at a cost that grows with the set (``org:uu`` at
    100,000 records: 150 ms on SQLite, 380 ms on PostgreSQL; ``openaccess`` 36 ms): chosen over an
    estimate because it is paid once per harvest of the set, which itself reads every record of
    it in pages of 100 (some 1 to 2 % of the harvest's time), and harvesters show the number. The
    SwePub sets are counted as the institution's records that may qualify (the quality rule is
    Python's), an estimate from above that the last page corrects (see verbs._resumption).
    """
    dialect = _dialect(session)
    today = now.astimezone(UTC).date()
    where = [clause for clause in (_set_filter(flt.selector, today), *_date_clauses(flt.dates, dialect))
             if clause is not None]

    def rows(*extra: ColumnElement[bool]) -> Select[Any]:
        return select(func.count()).select_from(P).where(*where, *extra)

    # Scheduled records: through the public_from index (SQLite, without statistics for it, would
    # rather read every published row through the state index).
    scheduled = and_(P.state == "published", P.public_from.is_not(None), P.public_from > now)
    hidden = (rows(P.state.in_(HIDDEN_STATES)).scalar_subquery()
              + rows(off_state_index(scheduled) if dialect == "sqlite" else scheduled).scalar_subquery()
              + rows(P.state.in_(DELETED_STATES), or_(P.published_at.is_(None), P.published_at > now))
              .scalar_subquery())
    # The total on its own: SQLite counts a bare "SELECT count(*) FROM t" without reading rows.
    return int(_run(session, rows()).scalar_one()) - int(_run(session, select(hidden)).scalar_one())


def change_mark(session: Session, now: dt.datetime) -> tuple[Any, Any]:
    """The newest datestamp up to ``now`` (as stored) and the highest record id: two index look-ups
    that any change to the size of a list moves (``list_sizes``)."""
    dialect = _dialect(session)
    newest = (select(stored_datestamp(dialect)).where(P.datestamp < _moment(now + dt.timedelta(seconds=1), dialect))
              .order_by(P.datestamp.desc()).limit(1).scalar_subquery())
    return tuple(_run(session, select(newest, select(func.max(P.id)).scalar_subquery())).one())  # type: ignore[return-value]


def find(session: Session, now: dt.datetime, publication_id: int) -> Row | None:
    """The record with this id if OAI-PMH may show it (public, or deleted after being public)."""
    dialect = _dialect(session)
    values = _run(session, _columns(dialect).where(P.id == publication_id, oai_filter(now))).first()
    return _row(values, dialect) if values is not None else None


def earliest_datestamp(session: Session, now: dt.datetime) -> dt.datetime | None:
    """The smallest datestamp of any record OAI-PMH shows (None in an empty repository)."""
    rows = page(session, now, ListFilter(DateRange(None, None), None), None, 1)
    return rows[0].datestamp if rows else None


def catalogue(session: Session) -> SetCatalogue:
    institutions = [InstitutionRef(*r) for r in _run(
        session, select(Institution.id, Institution.code, Institution.name).order_by(Institution.id))]
    units = [UnitRef(*r) for r in _run(
        session, select(OrgUnit.id, OrgUnit.institution_id, OrgUnit.path, OrgUnit.name).order_by(OrgUnit.id))]
    return SetCatalogue(institutions, units)



# -- What a page's headers and checks need, in one set-based statement ---------------------------
#
# A header's sets need each record's organisation units and whether a full text is open; SwePub's
# set needs its minimum level; swepub_mods needs to know a record has a URI. Asked record by
# record (correlated EXISTS for each row) that cost 7 to 19 ms a page on PostgreSQL; here every
# question is one branch of a UNION ALL that reads its part table through the part's own
# publication_id index for the whole page, and each row it returns is a piece of evidence
# (a tag, the record, a value) that Python combines.
#
# SwePub's minimum level, as far as SQL can decide it exactly: ``exports.quality.minimum_level``
# treats a value made only of punctuation and white space as missing, and reads contributor roles
# from a JSON list. SQL cannot say "only punctuation and Unicode white space" the way Python's
# str.strip does, but it can say "has an ASCII letter or digit", which is enough to know a value
# is present. So SQL decides that a record certainly passes (every rule satisfied by such
# evidence), and every other record is judged by the Python rule itself on its read model.
# Membership is therefore exactly ``minimum_level``'s verdict, and SQL saves building read models
# for nearly every record. tests/unit/oai/test_sets.py checks the agreement record by record.
# (ListRecords and GetRecord load every read model anyway and read these facts off them instead:
# ``listing.PageBuilder._facts_of``.)

UNIT, OPEN, COLUMNS, URN, URI, CREATOR, TITLE, LANGUAGE, URI_OR_URN = range(9)


@dataclass(frozen=True, slots=True)
class PageFacts:
    """Per record of a page: its units, open access, SwePub and swepub_mods evidence SQL can vouch for."""

    units: dict[int, frozenset[int]]
    open_access: set[int]
    swepub_certain: set[int]  # of the SwePub candidates asked about: those SQL knows pass the minimum level
    uri_certain: set[int]  # of the records asked about: those whose swepub_mods URI is surely their URN:NBN's


def _alnum(column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """True when ``column`` holds an ASCII letter or digit (so SwePub cannot find it blank)."""
    if dialect == "sqlite":
        return func.glob("*[A-Za-z0-9]*", column) == 1
    return column.op("~")("[A-Za-z0-9]")


def _has_role(roles: Iterable[str]) -> ColumnElement[bool]:
    """The contributor's JSON list of roles holds one of ``roles``.

    Matched in the JSON text: role codes are three lower-case letters, so ``"aut"`` (quotes
    included) occurs in the text exactly when one element is ``aut``; opening the list with
    json_each for every contributor cost a third of a page's facts.
    """
    text = cast(Contributor.roles, Text)
    return or_(*(text.like(f'%"{role}"%') for role in roles))


def _tagged(tag: int, pub_id: ColumnElement[int], *where: ColumnElement[bool],
            value: ColumnElement[Any] | None = None) -> Select[Any]:
    return select(literal_column(str(tag), Integer), pub_id,
                  value if value is not None else cast(null(), Integer)).where(*where)


def _swepub_columns(dialect: str) -> ColumnElement[bool]:
    """Rules 07, 08, 11 and 12, which the publication's own columns settle."""
    output = func.coalesce(P.output_type, "")
    unpublished = P.publication_status.in_(sorted(quality._UNPUBLISHED))
    content = or_(P.content_type.in_(CONTENT_TYPES), P.publication_type.in_(sorted(quality._NO_CONTENT_TYPE_SVEP)),
                  *(output.like(f"{prefix}%") for prefix in quality._NO_CONTENT_TYPE_OUTPUT))
    issued = or_(and_(P.issued_year.is_not(None), P.issued_year != 0), unpublished,
                 output == "publication/preprint")
    host_required = or_(P.publication_type.in_(sorted(quality._HOST_REQUIRED_SVEP)),
                        output.in_(sorted(quality._HOST_REQUIRED_OUTPUT)))
    host_given = or_(not_(host_required), unpublished, func.coalesce(_alnum(P.host_title, dialect), False))
    host_forbidden = or_(P.publication_type.in_(sorted(quality._HOST_FORBIDDEN_SVEP)),
                         output.in_(sorted(quality._HOST_FORBIDDEN_OUTPUT)))
    no_host = or_(not_(host_forbidden), P.host_title.is_(None), P.host_title == "")
    return and_(content, issued, host_given, no_host)


def _swepub_evidence(candidates: BindParameter[Any], dialect: str) -> list[Select[Any]]:
    """Branches for rules 02 (creator), 05 (title), 09 (URI), 10 (language) and the column rules.

    Rule 02's "a work contributor affiliated with one of our units" is the ``UNIT`` branch.
    """
    ident, title, language = PublicationIdentifier, PublicationTitle, PublicationLanguage
    return [
        _tagged(COLUMNS, P.id, among(P.id, candidates, dialect), _swepub_columns(dialect)),
        _tagged(URI, ident.publication_id, among(ident.publication_id, candidates, dialect), ident.scheme == "uri",
                _alnum(ident.value, dialect)),
        _tagged(CREATOR, P.id, among(P.id, candidates, dialect),
                or_(P.publication_type == "kfu", func.coalesce(P.output_type, "").like("artistic-work%"))),
        _tagged(CREATOR, Contributor.publication_id, among(Contributor.publication_id, candidates, dialect),
                Contributor.scope == "work", Contributor.corporate_name.is_(None),
                or_(_alnum(Contributor.family_name, dialect), _alnum(Contributor.given_name, dialect)),
                _has_role(sorted(quality._CREATOR_ROLES))).distinct(),
        _tagged(TITLE, title.publication_id, among(title.publication_id, candidates, dialect),
                _alnum(title.title, dialect)).distinct(),
        _tagged(LANGUAGE, language.publication_id, among(language.publication_id, candidates, dialect),
                _alnum(language.code, dialect)).distinct(),
    ]


_VALUES = ("page_ids", "swepub_ids", "uri_ids", "urn_ids", "today")


def _units_branch(page_ids: BindParameter[Any], dialect: str) -> Select[Any]:
    """(UNIT, record, unit) for the work contributors' affiliations with units of ours.

    From the page's contributors to their affiliations, one index look-up each: on PostgreSQL
    written as a LATERAL subquery, since as a join its planner hashes the whole affiliations
    table (42 ms a page at 100,000 records); SQLite's planner takes that path by itself.
    """
    of_page = [among(Contributor.publication_id, page_ids, dialect), Contributor.scope == "work"]
    if dialect == "postgresql":
        # OFFSET 0 keeps the planner from pulling the subquery up into a join (and hashing again).
        units = (select(ContributorAffiliation.org_unit_id)
                 .where(ContributorAffiliation.contributor_id == Contributor.id,
                        ContributorAffiliation.org_unit_id.is_not(None)).offset(0).lateral("units"))
        return _tagged(UNIT, Contributor.publication_id, *of_page, value=units.c.org_unit_id).select_from(
            Contributor).join(units, true()).distinct()
    return _tagged(UNIT, Contributor.publication_id, ContributorAffiliation.contributor_id == Contributor.id, *of_page,
                   ContributorAffiliation.org_unit_id.is_not(None), value=ContributorAffiliation.org_unit_id).distinct()


@functools.lru_cache(maxsize=16)
def _facts_statement(dialect: str, swepub: bool, record_uri: bool) -> CompoundSelect:
    """The facts statement for one shape of question, built once: only the ids and the day vary.

    Every other value is written into the SQL text (``literal_execute``), so PostgreSQL's driver
    gets a short statement with five parameters, which it parses once and keeps, instead of 60
    parameters in 4,500 characters that it would split up again for every page (6 ms).
    """
    page_ids, swepub_ids, uri_ids, urn_ids = (id_list(name, dialect) for name in _VALUES[:4])
    branches = [
        _units_branch(page_ids, dialect),
        _tagged(OPEN, StoredFile.publication_id, among(StoredFile.publication_id, page_ids, dialect),
                _open_file(bindparam("today", type_=Date))),
    ]
    if swepub or record_uri:
        branches.append(_tagged(URN, P.id, among(P.id, urn_ids, dialect), P.urn_nbn.is_not(None), P.urn_nbn != ""))
    if swepub:
        branches += _swepub_evidence(swepub_ids, dialect)
    if record_uri:
        ident = PublicationIdentifier
        branches.append(_tagged(URI_OR_URN, ident.publication_id, among(ident.publication_id, uri_ids, dialect),
                                ident.scheme.in_(("uri", "urn"))))

    def inline(element: Any) -> Any:
        if isinstance(element, BindParameter) and element.key not in _VALUES:
            return bindparam(None, element.value, type_=element.type, expanding=element.expanding,
                             literal_execute=True)
        return None

    return replacement_traverse(union_all(*branches), {}, inline)


def page_facts(session: Session, ids: Collection[int], today: dt.date, *, swepub: Collection[int] = (),
               record_uri: Collection[int] = ()) -> PageFacts:
    """The facts about ``ids`` (a page's rows), in one statement.

    ``swepub``: the SwePub candidates among them (rule 01 and "no student theses" are the
    catalogue's); ``record_uri``: those whose swepub_mods URI is to be checked.
    """
    if not ids:
        return PageFacts({}, set(), set(), set())
    candidates, uri_asked = sorted(swepub), sorted(record_uri)
    statement = _facts_statement(_dialect(session), bool(candidates), bool(uri_asked))
    values = {"page_ids": sorted(ids), "swepub_ids": candidates, "uri_ids": uri_asked,
              "urn_ids": sorted({*candidates, *uri_asked}), "today": today}
    found: dict[int, set[int]] = {tag: set() for tag in range(URI_OR_URN + 1)}
    units: dict[int, set[int]] = {}
    for tag, pub_id, value in _run(session, statement, values).all():
        found[tag].add(pub_id)
        if tag == UNIT:
            units.setdefault(pub_id, set()).add(value)
    creator = found[CREATOR] | found[UNIT]
    swepub_certain = {i for i in candidates if i in found[COLUMNS] and (i in found[URN] or i in found[URI])
                      and i in creator and i in found[TITLE] and i in found[LANGUAGE]}
    uri_certain = {i for i in uri_asked if i in found[URN] and i not in found[URI_OR_URN]}
    return PageFacts({k: frozenset(v) for k, v in units.items()}, found[OPEN], swepub_certain, uri_certain)
