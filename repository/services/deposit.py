"""Self-deposit: a draft created in steps, saved after each step, checked against SwePub's rules, then submitted.

The draft is an ordinary publication record in state ``draft`` (records.create_publication);
each step replaces only its own part of the metadata and saves the whole record again through
records.update_publication, so the web form and the JSON API share one path and one validation.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from sqlalchemy import select

from exports import quality
from exports import readmodel as rm
from repository.db import session
from repository.errors import Conflict, Invalid, NotFound, PermissionDenied
from repository.models import Publication, User, WorkflowEvent, utcnow
from repository.permissions import can
from repository.schemas.publication import load_publication
from repository.schemas.record import publication_data
from repository.services import duplicates, records
from repository.services.readmodel import URN_RESOLVER, Site, to_read_model

log = logging.getLogger(__name__)

THESIS_TYPES = ("dok", "lic", "stud")
EDITABLE_STATES = ("draft", "returned")
# Problems a submitter must fix before an editor sees the record; warnings only advise.
BLOCKING = ("reject", "error")
# Problems the publishing step itself removes (it mints the record's URN:NBN and its URI).
_FIXED_BY_PUBLISHING = frozenset({"09"})


def create_draft(actor: User, data: Any, *, allow_duplicates: bool = False) -> Publication:
    """A new draft; refused with ``PossibleDuplicates`` when it looks like a record that exists."""
    if actor is None or not actor.active:
        raise PermissionDenied("log in to deposit a publication")
    if isinstance(data, dict):
        data = {**data, "related": _resolve_related(actor, data.get("related") or [])}
    loaded = load_publication(data)
    if not allow_duplicates:
        found = duplicates.find_for_input(actor, loaded)
        if found:
            raise duplicates.PossibleDuplicates(found)
    return records.create_publication(actor, data)


def get_draft(actor: User, publication_id: int) -> Publication:
    """A record the actor may edit: someone else's draft is not admitted to exist."""
    pub = records.get_publication(actor, publication_id)
    if not can(actor, "edit", pub):
        if pub.submitter_id == getattr(actor, "id", None):
            raise Conflict(f"publication {publication_id} is {pub.state}: it can no longer be changed by you")
        raise PermissionDenied("you may not edit this publication")
    return pub


def update_draft(actor: User, publication_id: int, changes: dict[str, Any], expected_version: int) -> Publication:
    """Replace the parts named in ``changes`` (top-level keys of the publication input) and save."""
    pub = get_draft(actor, publication_id)
    data = publication_data(pub)
    if "publication_type" in changes and changes["publication_type"] != data["publication_type"]:
        data["output_type"] = None  # derived from the type again
        if changes["publication_type"] not in THESIS_TYPES:
            data["thesis"] = None
    data.update(changes)
    data["related"] = _resolve_related(actor, data.get("related") or [], own_id=publication_id)
    return records.update_publication(actor, publication_id, data, expected_version)


def _resolve_related(actor: User, related: list[dict[str, Any]], own_id: int | None = None) -> list[dict[str, Any]]:
    """Constituent papers given by record number get their title from that record, which must be readable."""
    resolved = []
    errors: dict[str, list[str]] = {}
    if not isinstance(related, list):
        return related  # the schema says what is wrong with it
    for n, item in enumerate(related):
        if not isinstance(item, dict):
            resolved.append(item)
            continue
        item = dict(item)
        related_id = item.get("related_id")
        if isinstance(related_id, int) and not isinstance(related_id, bool):
            if related_id == own_id:
                errors[f"related[{n}].related_id"] = ["a thesis cannot be one of its own papers"]
                continue
            try:
                other = records.get_publication(actor, related_id)
            except NotFound:
                errors[f"related[{n}].related_id"] = [f"there is no record number {related_id} you can see"]
                continue
            item["title"] = item.get("title") or other.main_title
        item.setdefault("relation", "constituent")
        resolved.append(item)
    if errors:
        raise Invalid(errors)
    return resolved


def add_contributor(actor: User, publication_id: int, contributor: dict[str, Any], expected_version: int) -> Publication:
    pub = get_draft(actor, publication_id)
    people = publication_data(pub)["contributors"]
    people.append(contributor)
    return update_draft(actor, publication_id, {"contributors": people}, expected_version)


def remove_contributor(actor: User, publication_id: int, index: int, expected_version: int) -> Publication:
    pub = get_draft(actor, publication_id)
    people = publication_data(pub)["contributors"]
    if not 0 <= index < len(people):
        raise Invalid({"contributors": [f"there is no contributor number {index + 1}"]})
    del people[index]
    return update_draft(actor, publication_id, {"contributors": people}, expected_version)


def move_contributor(actor: User, publication_id: int, index: int, offset: int, expected_version: int) -> Publication:
    """Move a contributor up (-1) or down (+1): the order of authors is part of the citation."""
    pub = get_draft(actor, publication_id)
    people = publication_data(pub)["contributors"]
    target = index + offset
    if not (0 <= index < len(people) and 0 <= target < len(people)):
        raise Invalid({"contributors": [f"contributor number {index + 1} cannot move there"]})
    people[index], people[target] = people[target], people[index]
    return update_draft(actor, publication_id, {"contributors": people}, expected_version)


def as_published(pub: Publication, site: Site, urn_prefix: str) -> rm.Publication:
    """The read model the record will have once published: with the URN:NBN and URI publishing mints."""
    model = to_read_model(pub, site)
    if pub.urn_nbn:
        return model
    urn = records.mint_urn(pub, urn_prefix)
    return dataclasses.replace(model, identifiers=model.identifiers + (
        rm.Identifier("urn", urn), rm.Identifier("uri", URN_RESOLVER + urn)), state="published")


def preflight(pub: Publication, site: Site, urn_prefix: str) -> quality.Verdict:
    """SwePub's verdict on the record as it would be published: its minimum level and field checks."""
    return quality.preflight(as_published(pub, site, urn_prefix))


def blocking_problems(verdict: quality.Verdict) -> list[quality.Problem]:
    return [p for p in verdict.problems if p.severity in BLOCKING and p.code not in _FIXED_BY_PUBLISHING]


def submit(actor: User, publication_id: int, site: Site, urn_prefix: str, *, comment: str | None = None) -> Publication:
    """Hand a draft (or a returned record) to the editors; refused while SwePub would reject it."""
    pub = records.get_publication(actor, publication_id)
    if not can(actor, "submit", pub):
        if pub.submitter_id == getattr(actor, "id", None):
            raise Conflict(f"publication {publication_id} is {pub.state}: only drafts and returned records can be submitted")
        raise PermissionDenied("you may not submit this publication")
    if pub.state not in EDITABLE_STATES:
        raise Conflict(f"a {pub.state} publication cannot be submitted")
    problems = blocking_problems(preflight(pub, site, urn_prefix))
    if problems:
        errors: dict[str, list[str]] = {}
        for p in problems:
            errors.setdefault(p.path, []).append(p.message)
        raise Invalid(errors)
    now = utcnow()
    action = "resubmit" if pub.state == "returned" else "submit"
    session.add(WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action=action, from_state=pub.state,
                              to_state="submitted", comment=(comment or "").strip() or None, at=now))
    pub.state = "submitted"
    pub.updated_at = now
    session.commit()
    log.info("%s record=%s by user=%s", action, pub.id, actor.id)
    return pub


def my_publications(actor: User, *, state: str | None = None) -> list[Publication]:
    """The actor's own records, newest change first, for "My publications"."""
    query = select(Publication).where(Publication.submitter_id == actor.id)
    if state:
        query = query.where(Publication.state == state)
    return list(session.scalars(query.order_by(Publication.updated_at.desc(), Publication.id.desc())))


def last_comment(pub_id: int, action: str) -> WorkflowEvent | None:
    """The newest event of ``action`` (e.g. the editor's "return" with its comment) on a record."""
    return session.scalar(select(WorkflowEvent).where(WorkflowEvent.publication_id == pub_id,
                                                      WorkflowEvent.action == action)
                          .order_by(WorkflowEvent.at.desc(), WorkflowEvent.id.desc()).limit(1))
