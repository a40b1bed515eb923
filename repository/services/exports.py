"""The records behind export downloads and citations: one record, or a list streamed as read models.

A list is a person's, an organisation unit's (its sub-units included), an institution's or an
explicit selection of ids. Lists are read with ``yield_per``: each chunk of records costs the
same few queries (the publication rows plus one ``selectin`` query per part), and only one
chunk of ORM objects is alive at a time, so 100,000 records stream with flat memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.engine import ScalarResult
from sqlalchemy.orm import Session, selectinload

from exports import readmodel as rm
from repository.db import database, session
from repository.errors import Invalid, NotFound
from repository.models import Contributor, ContributorAffiliation, OrgUnit, Publication, User
from repository.permissions import visible_filter
from repository.services import browse, records
from repository.services.readmodel import Site, to_read_model

log = logging.getLogger(__name__)

# Records per chunk: one round of queries per chunk, and the most ORM objects alive at once.
CHUNK_SIZE = 500
# A selection travels in the URL (``?ids=1,2,3``); a longer one belongs in a search or a list.
MAX_SELECTION = 1000


@dataclass(frozen=True, slots=True)
class RecordList:
    """A list to export: what its download is called, what its page says, and which records it holds."""

    stem: str  # the file name without extension, e.g. "person-12"
    title: str  # e.g. "Publications of Åsa Öberg"
    criterion: ColumnElement[bool]
    order: tuple[ColumnElement[Any], ...]


def record(actor: User | None, publication_id: int, site: Site) -> rm.Publication:
    """One record the actor may read; ``Gone`` for a withdrawn one, ``NotFound`` for others' drafts."""
    return to_read_model(records.get_publication(actor, publication_id), site)


def _newest_first() -> tuple[ColumnElement[Any], ...]:
    return (Publication.issued_year.desc().nulls_last(), Publication.id.desc())


def person_list(person_id: int) -> RecordList:
    """The public records a person is linked to (as any contributor), newest first."""
    person = browse.get_person(person_id)
    ids = select(Contributor.publication_id).where(Contributor.person_id == person.id)
    return RecordList(f"person-{person.id}", f"Publications of {person.display_name()}",
                      visible_filter(None) & Publication.id.in_(ids), _newest_first())


def unit_list(unit_id: int) -> RecordList:
    """The public records with an author affiliated to the unit or to any unit below it."""
    unit = browse.get_unit(unit_id)
    units = select(OrgUnit.id).where((OrgUnit.path == unit.path)
                                     | OrgUnit.path.startswith(unit.path + ":", autoescape=True))
    ids = (select(Contributor.publication_id)
           .join(ContributorAffiliation, ContributorAffiliation.contributor_id == Contributor.id)
           .where(ContributorAffiliation.org_unit_id.in_(units)))
    return RecordList(f"unit-{unit.path.replace(':', '-')}", f"Publications of {unit.name}",
                      visible_filter(None) & Publication.id.in_(ids), _newest_first())


def institution_list(code: str) -> RecordList:
    institution = browse.get_institution(code)
    return RecordList(f"institution-{institution.code}", f"Publications of {institution.name}",
                      visible_filter(None) & (Publication.institution_id == institution.id), _newest_first())


def parse_ids(text: str) -> list[int]:
    """Read ``1,2,3`` (spaces allowed, duplicates dropped, order kept); ``Invalid`` says what is wrong."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise Invalid({"ids": ["give the records to export as ids separated by commas, e.g. ids=12,15,20"]})
    bad = [p for p in parts if not p.isascii() or not p.isdigit()]
    if bad:
        raise Invalid({"ids": [f"not record ids: {', '.join(repr(p) for p in bad[:10])}"]})
    ids = list(dict.fromkeys(int(p) for p in parts))
    if len(ids) > MAX_SELECTION:
        raise Invalid({"ids": [f"at most {MAX_SELECTION} records in one selection, not {len(ids)}; "
                               "export a person's, a unit's or an institution's list instead"]})
    return ids


def selection(actor: User | None, ids: Sequence[int]) -> RecordList:
    """The records chosen by id, in the order given, all of which the actor must be able to read.

    An id the actor may not read is reported as not found, exactly like one that does not exist,
    so a selection cannot be used to learn which drafts exist.
    """
    visible = visible_filter(actor) & Publication.id.in_(ids)
    found = set(session.scalars(select(Publication.id).where(visible)))
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFound(f"no publication {', '.join(str(i) for i in missing)}")
    position = case({pid: i for i, pid in enumerate(ids)}, value=Publication.id)
    return RecordList("selection", "Selected publications", visible, (position,))


def count(records_: RecordList) -> int:
    return session.scalar(select(func.count()).select_from(Publication).where(records_.criterion)) or 0


# The read model takes a contributor's ``person_id``, never the person row (nor its name forms):
# loading them would cost two queries and a few thousand objects per chunk for nothing.
_READ_MODEL_LOADS = (selectinload(Publication.contributors).lazyload(Contributor.person),)


class ReadModelStream:
    """The read models of a list, read on a session of their own that lives as long as the download.

    The query runs when the stream is made, so a failing query is an error page and not a cut-off
    download. The request's session is closed when the view returns, before the body is sent, so
    the stream cannot use it; its own session is closed when the last record has been read or the
    client goes away (``close``).
    """

    def __init__(self, records_: RecordList, site: Site, chunk_size: int | None = None) -> None:
        self._site = site
        self._session: Session = database().sessionmaker()
        statement = (select(Publication).where(records_.criterion).order_by(*records_.order)
                     .options(*_READ_MODEL_LOADS).execution_options(yield_per=chunk_size or CHUNK_SIZE))
        try:
            self._result: ScalarResult[Publication] = self._session.scalars(statement)
        except Exception:
            self._session.close()
            raise
        self._closed = False

    def __iter__(self) -> Iterator[rm.Publication]:
        try:
            for pub in self._result:
                yield to_read_model(pub, self._site)
        finally:
            self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._result.close()
            self._session.close()


def stream(records_: RecordList, site: Site, chunk_size: int | None = None) -> ReadModelStream:
    return ReadModelStream(records_, site, chunk_size)
