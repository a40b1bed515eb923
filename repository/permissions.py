"""Who may do what, declared as data in one place.

``POLICY`` maps each action to the needs that grant it; a need is a predicate of (user, record).
The same table answers "may this user act on this record" (``can``) and "which records may this
user see" (``visible_filter``), so the list pages and the landing page never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from repository.models import Publication, StoredFile, User, utcnow

Need = Callable[[User | None, Publication], bool]


def anyone(_user: User | None, _pub: Publication) -> bool:
    return True


def is_public_at(pub: Publication, now: dt.datetime) -> bool:
    """Published and past its ``public_from`` (a thesis approved ahead of its nailing day waits until then)."""
    return pub.state == "published" and (pub.public_from is None or pub.public_from <= now)


def was_public_at(pub: Publication, now: dt.datetime) -> bool:
    """Withdrawn or deleted after it had been public: only such records leave a tombstone.

    A submission that was rejected, or a thesis withdrawn before its nailing day, was never
    shown to anyone, so neither its landing page nor OAI-PMH may admit that it existed.
    """
    return (pub.state in ("withdrawn", "deleted") and pub.published_at is not None
            and pub.published_at <= now)


def public_record(_user: User | None, pub: Publication) -> bool:
    return is_public_at(pub, utcnow())


def owner(user: User | None, pub: Publication) -> bool:
    return user is not None and pub.submitter_id == user.id


def owner_while_editable(user: User | None, pub: Publication) -> bool:
    return owner(user, pub) and pub.state in ("draft", "returned")


def institution_editor(user: User | None, pub: Publication) -> bool:
    """Editors act on their own institution's records; DiVA separates its ~50 universities this way."""
    return user is not None and user.role == "editor" and user.institution_id == pub.institution_id


def administrator(user: User | None, _pub: Publication) -> bool:
    return user is not None and user.role == "administrator"


def authenticated(user: User | None, _pub: Publication) -> bool:
    return user is not None


POLICY: dict[str, tuple[Need, ...]] = {
    "read": (public_record, owner, institution_editor, administrator),
    "create": (authenticated,),
    "edit": (owner_while_editable, institution_editor, administrator),
    "submit": (owner_while_editable, institution_editor, administrator),
    "review": (institution_editor, administrator),
    "publish": (institution_editor, administrator),
    "return": (institution_editor, administrator),
    "reject": (institution_editor, administrator),
    "withdraw": (institution_editor, administrator),
    "read_history": (owner, institution_editor, administrator),
    "download_restricted": (owner, institution_editor, administrator),
}


def can(user: User | None, action: str, pub: Publication) -> bool:
    """Whether ``user`` (None for anonymous) may do ``action`` on ``pub``."""
    if user is not None and not user.active:
        user = None
    return any(need(user, pub) for need in POLICY[action])


def can_download(user: User | None, file: StoredFile, pub: Publication, today: dt.date,
                 now: dt.datetime | None = None) -> bool:
    """Open (or past-embargo) files of public records are free; the rest follow the record's people.

    A scheduled thesis's files stay closed with the record until its ``public_from`` moment.
    """
    if is_public_at(pub, now or utcnow()) and file.is_open_on(today):
        return True
    return can(user, "download_restricted", pub)


def public_filter(now: dt.datetime | None = None) -> ColumnElement[Any]:
    """The SQL form of "public now": every anonymous list, feed, sitemap and OAI-PMH query uses it."""
    moment = now or utcnow()
    return and_(Publication.state == "published",
                or_(Publication.public_from.is_(None), Publication.public_from <= moment))


def oai_filter(now: dt.datetime | None = None) -> ColumnElement[Any]:
    """What OAI-PMH exposes: public records, and (as deleted records) those withdrawn after being public.

    A record appears only from its ``public_from`` moment; its datestamp is set to that moment
    when it is scheduled, so incremental harvests (``from=``) pick it up on the day.
    """
    moment = now or utcnow()
    return or_(public_filter(moment),
               and_(Publication.state.in_(("withdrawn", "deleted")), Publication.published_at.is_not(None),
                    Publication.published_at <= moment))


def visible_filter(user: User | None) -> ColumnElement[Any]:
    """The SQL form of the ``read`` rule, for list queries."""
    if user is not None and user.active and user.role == "administrator":
        return true()
    clauses: list[ColumnElement[Any]] = [public_filter()]
    if user is not None and user.active:
        clauses.append(Publication.submitter_id == user.id)
        if user.role == "editor":
            clauses.append(Publication.institution_id == user.institution_id)
    return or_(*clauses) if clauses else false()


def reviewable_filter(user: User) -> ColumnElement[Any]:
    """Records in ``user``'s review queue."""
    queued = Publication.state == "submitted"
    if user.role == "administrator":
        return queued
    if user.role == "editor":
        return and_(queued, Publication.institution_id == user.institution_id)
    return false()
