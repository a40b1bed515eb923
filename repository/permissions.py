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

from repository.models import Publication, StoredFile, User

Need = Callable[[User | None, Publication], bool]


def anyone(_user: User | None, _pub: Publication) -> bool:
    return True


def public_record(_user: User | None, pub: Publication) -> bool:
    return pub.state == "published"


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
    "withdraw": (institution_editor, administrator),
    "read_history": (owner, institution_editor, administrator),
    "download_restricted": (owner, institution_editor, administrator),
}


def can(user: User | None, action: str, pub: Publication) -> bool:
    """Whether ``user`` (None for anonymous) may do ``action`` on ``pub``."""
    if user is not None and not user.active:
        user = None
    return any(need(user, pub) for need in POLICY[action])


def can_download(user: User | None, file: StoredFile, pub: Publication, today: dt.date) -> bool:
    """Open (or past-embargo) files of public records are free; the rest follow the record's people."""
    if pub.state == "published" and file.is_open_on(today):
        return True
    return can(user, "download_restricted", pub)


def visible_filter(user: User | None) -> ColumnElement[Any]:
    """The SQL form of the ``read`` rule, for list queries."""
    if user is not None and user.active and user.role == "administrator":
        return true()
    clauses: list[ColumnElement[Any]] = [Publication.state == "published"]
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
