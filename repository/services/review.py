"""The editors' side of the workflow: the review queue, and publish, schedule, return, reject and withdraw.

Each step checks the permission table, records a WorkflowEvent with the editor and the comment,
commits, and only then notifies the submitter (a failing mail server never undoes a decision).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass

from sqlalchemy import func, select

from repository.db import session
from repository.errors import Conflict, Invalid, NotFound, PermissionDenied
from repository.models import (
    Contributor, ContributorAffiliation, OrgUnit, Publication, User, WorkflowEvent, utcnow,
)
from repository.permissions import can, reviewable_filter
from repository.services import notify, records

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueueItem:
    publication: Publication
    submitted_at: dt.datetime
    submitter: User | None

    def age_days(self, now: dt.datetime) -> int:
        return (now - self.submitted_at).days


def queue(actor: User, *, publication_type: str | None = None, unit_id: int | None = None,
          min_age_days: int | None = None, now: dt.datetime | None = None) -> list[QueueItem]:
    """Submitted records the actor may review, oldest submission first (the one waiting longest)."""
    if actor is None or not actor.is_editor:
        raise PermissionDenied("only editors have a review queue")
    now = now or utcnow()
    submitted = (select(WorkflowEvent.publication_id, func.max(WorkflowEvent.at).label("at"))
                 .where(WorkflowEvent.action.in_(("submit", "resubmit")))
                 .group_by(WorkflowEvent.publication_id).subquery())
    query = (select(Publication, func.coalesce(submitted.c.at, Publication.updated_at), User)
             .outerjoin(submitted, submitted.c.publication_id == Publication.id)
             .outerjoin(User, User.id == Publication.submitter_id)
             .where(reviewable_filter(actor)))
    if publication_type:
        query = query.where(Publication.publication_type == publication_type)
    if unit_id is not None:
        unit = session.get(OrgUnit, unit_id)
        if unit is None:
            raise Invalid({"unit": [f"no organisation unit {unit_id}"]})
        units = select(OrgUnit.id).where((OrgUnit.path == unit.path) | OrgUnit.path.startswith(unit.path + ":"))
        query = query.where(Publication.id.in_(
            select(Contributor.publication_id)
            .join(ContributorAffiliation, ContributorAffiliation.contributor_id == Contributor.id)
            .where(ContributorAffiliation.org_unit_id.in_(units))))
    if min_age_days is not None:
        if min_age_days < 0:
            raise Invalid({"age": ["the age is a number of days, 0 or more"]})
        query = query.where(func.coalesce(submitted.c.at, Publication.updated_at) <= now - dt.timedelta(days=min_age_days))
    rows = session.execute(query.order_by(func.coalesce(submitted.c.at, Publication.updated_at), Publication.id))
    return [QueueItem(pub, at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc), user) for pub, at, user in rows]


def _for_review(actor: User, publication_id: int, action: str) -> Publication:
    pub = records.get_publication(actor, publication_id)
    if not can(actor, action, pub):
        raise PermissionDenied(f"only an editor of the record's institution may {action} it")
    return pub


def _comment(comment: str | None, why: str) -> str:
    text = (comment or "").strip()
    if not text:
        raise Invalid({"comment": [why]})
    return text


def _notify_submitter(pub: Publication, kind: str, subject: str, body: str) -> None:
    submitter = session.get(User, pub.submitter_id) if pub.submitter_id else None
    if submitter is not None and submitter.active:
        notify.send(submitter.email, subject, body, kind=kind, publication_id=pub.id)


def _record_line(pub: Publication, base_url: str) -> str:
    return f"“{pub.main_title}” ({base_url}/publications/{pub.id})"


def return_to_submitter(actor: User, publication_id: int, comment: str | None, *, base_url: str) -> Publication:
    """Send a submission back with a comment saying what to fix; the submitter edits and resubmits."""
    pub = _for_review(actor, publication_id, "return")
    if pub.state != "submitted":
        raise Conflict(f"only submitted publications can be returned; this one is {pub.state}")
    text = _comment(comment, "say what the submitter should change; they will read it in the e-mail and on the record")
    now = utcnow()
    session.add(WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action="return", from_state="submitted",
                              to_state="returned", comment=text, at=now))
    pub.state = "returned"
    pub.updated_at = now
    session.commit()
    log.info("returned record=%s by user=%s", pub.id, actor.id)
    _notify_submitter(pub, "returned", f"Please revise your submission: {pub.main_title}",
                      f"An editor has returned your submission {_record_line(pub, base_url)} with this comment:\n\n"
                      f"{text}\n\nMake the changes and submit it again: {base_url}/deposit/{pub.id}\n")
    return pub


def reject(actor: User, publication_id: int, comment: str | None, *, base_url: str) -> Publication:
    """Refuse a submission for good (not research output, a duplicate...); it is never public."""
    pub = _for_review(actor, publication_id, "reject")
    if pub.state not in ("submitted", "returned", "draft"):
        raise Conflict(f"a {pub.state} publication cannot be rejected; withdraw a published one instead")
    text = _comment(comment, "say why the submission is rejected; the submitter is told")
    now = utcnow()
    session.add(WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action="reject", from_state=pub.state,
                              to_state="deleted", comment=text, at=now))
    pub.state = "deleted"
    pub.updated_at = now
    session.commit()
    log.info("rejected record=%s by user=%s", pub.id, actor.id)
    _notify_submitter(pub, "rejected", f"Your submission was not accepted: {pub.main_title}",
                      f"An editor did not accept your submission {_record_line(pub, base_url)}:\n\n{text}\n")
    return pub


def nailing_moment(day: dt.date, timezone: str) -> dt.datetime:
    """The start of the nailing day in the institution's zone, as UTC: the moment a thesis goes public."""
    local = dt.datetime.combine(day, dt.time(0, 0), tzinfo=zoneinfo.ZoneInfo(timezone))
    return local.astimezone(dt.timezone.utc)


def publish(actor: User, publication_id: int, *, urn_prefix: str, base_url: str, timezone: str,
            comment: str | None = None, public_from: dt.date | None = None) -> Publication:
    """Publish now, or approve ahead to become public on ``public_from`` (a doctoral thesis's nailing day).

    A doctoral thesis with a nailing date in the future is scheduled for that date unless the
    editor gives another day; the record and its full text then appear by themselves.
    """
    pub = _for_review(actor, publication_id, "publish")
    day = public_from
    if day is None and pub.publication_type == "dok" and pub.thesis is not None and pub.thesis.nailing_date:
        day = pub.thesis.nailing_date
    moment = nailing_moment(day, timezone) if day is not None else None
    if moment is not None and moment <= utcnow():
        moment = None  # the day has come: publish at once
    note = (comment or "").strip() or None
    if moment is not None:
        note = f"{note + ' — ' if note else ''}public from {day.isoformat()}"
    pub = records.publish_now(actor, publication_id, urn_prefix=urn_prefix, comment=note, public_from=moment)
    if moment is None:
        subject, when = f"Published: {pub.main_title}", "is now public"
    else:
        subject, when = f"Approved for {day.isoformat()}: {pub.main_title}", f"will become public on {day.isoformat()}"
    _notify_submitter(pub, "published", subject, f"Your publication {_record_line(pub, base_url)} {when}.\n"
                      f"Its permanent identifier is {pub.urn_nbn}.\n")
    return pub


def withdraw(actor: User, publication_id: int, reason: str | None, *, base_url: str) -> Publication:
    """Take a public record down; its landing page becomes a tombstone with the reason."""
    pub = records.withdraw(actor, publication_id, reason or "")
    _notify_submitter(pub, "withdrawn", f"Withdrawn: {pub.main_title}",
                      f"Your publication {_record_line(pub, base_url)} has been withdrawn:\n\n{pub.withdrawn_reason}\n")
    return pub


def history(actor: User | None, publication_id: int) -> list[WorkflowEvent]:
    """The record's workflow events for those who may see them; nobody else learns that it exists."""
    try:
        return records.history(actor, publication_id)
    except NotFound:
        return []
