"""Creating, reading and editing publication records: permission checks, validation and transactions.

Every public entry point takes the acting user first (None for anonymous), checks the
permission table before it acts and ends a state change with ``commit()``.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from repository.db import session
from repository.errors import Conflict, Gone, Invalid, NotFound, PermissionDenied
from repository.models import (
    Abstract, Contributor, ContributorAffiliation, Funding, Keyword, Link, Note, OrgUnit, Person,
    Publication, PublicationIdentifier, PublicationLanguage, PublicationSubject, PublicationTitle,
    Relation, SeriesMembership, ThesisDetails, User, WorkflowEvent, utcnow,
)
from repository.permissions import can, public_filter, was_public_at
from repository.schemas.publication import load_publication
from exports import vocabularies

log = logging.getLogger(__name__)

TOMBSTONE_STATES = ("withdrawn", "deleted")
_HOST_FIELDS = ("kind", "title", "subtitle", "issn", "eissn", "isbn", "volume", "issue", "article_number",
                "page_start", "page_end", "publisher", "place")
_SCALARS = ("publication_type", "content_type", "publication_status", "publisher", "place", "edition",
            "extent", "creator_count", "licence")


def get_publication(actor: User | None, publication_id: int) -> Publication:
    """A record the actor may read; a withdrawn or deleted one raises ``Gone`` (its tombstone)."""
    pub = session.get(Publication, publication_id)
    if pub is None:
        raise NotFound(f"no publication {publication_id}")
    if pub.state in TOMBSTONE_STATES and was_public_at(pub, utcnow()) and not can(actor, "edit", pub):
        raise Gone(pub.withdrawn_reason or "This publication has been withdrawn.", pub.id)
    if not can(actor, "read", pub):
        # Unpublished work of others is not even admitted to exist.
        raise NotFound(f"no publication {publication_id}")
    return pub


def get_tombstone(publication_id: int) -> Publication:
    """A withdrawn or deleted record, for its tombstone page (citation and reason, nothing else)."""
    pub = session.get(Publication, publication_id)
    if pub is None or not was_public_at(pub, utcnow()):
        raise NotFound(f"no withdrawn publication {publication_id}")
    return pub


def create_publication(actor: User, data: Any) -> Publication:
    """A new draft owned by ``actor`` at the actor's institution."""
    if actor is None or not actor.active:
        raise PermissionDenied("log in to deposit a publication")
    if actor.institution_id is None:
        raise Invalid({"institution": ["your account belongs to no institution; ask an administrator"]})
    loaded = load_publication(data)
    now = utcnow()
    pub = Publication(institution_id=actor.institution_id, state="draft", submitter_id=actor.id,
                      created_at=now, updated_at=now, datestamp=now)
    _apply(pub, loaded)
    session.add(pub)
    session.flush()
    session.add(WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action="create", to_state="draft", at=now))
    session.commit()
    log.info("created record=%s by user=%s", pub.id, actor.id)
    return pub


def update_publication(actor: User, publication_id: int, data: Any, expected_version: int) -> Publication:
    """Replace the metadata of a record; fails with ``Conflict`` if someone saved it meanwhile.

    ``expected_version`` is the version the editor's form was built from: a second save from
    an older form is refused instead of silently overwriting the first.
    """
    pub = session.get(Publication, publication_id)
    if pub is None or not can(actor, "read", pub):
        raise NotFound(f"no publication {publication_id}")
    if not can(actor, "edit", pub):
        raise PermissionDenied("you may not edit this publication")
    if pub.version != expected_version:
        raise Conflict(f"publication {publication_id} was changed by someone else (version {pub.version}, "
                       f"your form has version {expected_version}); reload it and apply your changes again")
    loaded = load_publication(data)
    now = utcnow()
    _clear_parts(pub)
    _apply(pub, loaded)
    pub.updated_at = now
    if pub.state == "published":
        # A public change: harvesters must see it again (a scheduled record on its day, not before).
        pub.datestamp = max(now, pub.public_from or now)
    session.add(WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action="update",
                              from_state=pub.state, to_state=pub.state, at=now))
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        raise Conflict(f"publication {publication_id} was changed by someone else while you saved; "
                       "reload it and apply your changes again") from None
    log.info("updated record=%s by user=%s version=%s", pub.id, actor.id, pub.version)
    return pub


_PARTS = ("titles", "abstracts", "keywords", "subjects", "languages", "identifiers", "series", "funding",
          "notes", "links", "relations", "contributors")


def _clear_parts(pub: Publication) -> None:
    """Delete the old repeating parts before new ones go in.

    The unit of work inserts new rows before it deletes orphans, which would trip the unique
    constraints (one row per subject code) when a part is kept across an edit.
    """
    for name in _PARTS:
        setattr(pub, name, [])
    session.flush()


def _apply(pub: Publication, data: dict[str, Any]) -> None:
    """Write validated input onto the record, replacing every repeating part."""
    for name in _SCALARS:
        setattr(pub, name, data.get(name))
    pub.output_type = data.get("output_type") or vocabularies.default_output_type(
        data["publication_type"], data.get("content_type"))
    issued = data.get("issued")
    pub.issued_year, pub.issued_month, pub.issued_day = (
        (issued.year, issued.month, issued.day) if issued else (None, None, None))
    pub.accepted_date = data.get("accepted")
    pub.online_date = data.get("online")
    host = data.get("host") or {}
    for name in _HOST_FIELDS:
        setattr(pub, f"host_{name}", host.get(name))
    conference = data.get("conference") or {}
    pub.conference_name = conference.get("name")
    pub.conference_place = conference.get("place")
    pub.conference_start = conference.get("start")
    pub.conference_end = conference.get("end")

    pub.titles = [PublicationTitle(position=i, **t) for i, t in enumerate(data["titles"])]
    pub.abstracts = [Abstract(**a) for a in data.get("abstracts", [])]
    pub.keywords = [Keyword(position=i, **k) for i, k in enumerate(data.get("keywords", []))]
    pub.subjects = [PublicationSubject(position=i, code=c) for i, c in enumerate(dict.fromkeys(data.get("subjects", [])))]
    pub.languages = [PublicationLanguage(position=i, code=c) for i, c in enumerate(data.get("languages", []))]
    pub.identifiers = [PublicationIdentifier(**ident) for ident in data.get("identifiers", [])
                       if not (ident["scheme"] == "urn" and ident["value"] == pub.urn_nbn)]
    pub.series = [SeriesMembership(position=i, **s) for i, s in enumerate(data.get("series", []))]
    pub.funding = [Funding(**f) for f in data.get("funding", [])]
    pub.notes = [Note(**n) for n in data.get("notes", [])]
    pub.links = [Link(**lk) for lk in data.get("links", [])]
    pub.relations = [Relation(position=i, **r) for i, r in enumerate(data.get("related", []))]
    pub.contributors = _contributors(data.get("contributors", []))
    thesis = data.get("thesis")
    if thesis:
        if pub.thesis is None:
            pub.thesis = ThesisDetails(**thesis)
        else:
            for key in ("level", "credits", "degree_name", "programme", "defence_at", "defence_place",
                        "nailing_date", "granting_institution"):
                setattr(pub.thesis, key, thesis.get(key))
    else:
        pub.thesis = None


def _contributors(items: list[dict[str, Any]]) -> list[Contributor]:
    """Contributor rows, with linked persons and organisation units checked to exist."""
    person_ids = {c["person_id"] for c in items if c.get("person_id")}
    unit_ids = {a["org_unit_id"] for c in items for a in c.get("affiliations", []) if a.get("org_unit_id")}
    persons = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))} if person_ids else {}
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)))} if unit_ids else {}
    errors: dict[str, list[str]] = {}
    rows = []
    for i, item in enumerate(items):
        person = persons.get(item.get("person_id")) if item.get("person_id") else None
        if item.get("person_id") and person is None:
            errors[f"contributors[{i}].person_id"] = [f"no person {item['person_id']}"]
            continue
        affiliations = []
        for j, aff in enumerate(item.get("affiliations", [])):
            unit = units.get(aff.get("org_unit_id")) if aff.get("org_unit_id") else None
            if aff.get("org_unit_id") and unit is None:
                errors[f"contributors[{i}].affiliations[{j}].org_unit_id"] = [f"no organisation unit {aff['org_unit_id']}"]
                continue
            affiliations.append(ContributorAffiliation(
                position=j, org_unit_id=unit.id if unit else None,
                name=aff.get("name") or (unit.name if unit else ""), country=aff.get("country")))
        rows.append(Contributor(
            position=i, scope=item.get("scope", "work"), person_id=person.id if person else None,
            family_name=item.get("family") or (person.family_name if person else None),
            given_name=item.get("given") or (person.given_name if person else None),
            corporate_name=item.get("corporate_name"), roles=list(dict.fromkeys(item["roles"])),
            orcid=item.get("orcid") or (person.orcid if person else None),
            local_id=item.get("local_id") or (person.local_id if person else None),
            affiliations=affiliations))
    if errors:
        raise Invalid(errors)
    return rows


def mint_urn(pub: Publication, prefix: str) -> str:
    """The URN:NBN every published record gets: ``urn:nbn:se:<institution>:hylla-<id>``."""
    return f"{prefix}:{pub.institution.code}:hylla-{pub.id}"


def publish_now(actor: User, publication_id: int, *, urn_prefix: str, comment: str | None = None,
                public_from: dt.datetime | None = None) -> Publication:
    """Make a record public: mint its URN:NBN, stamp it and record who did it.

    With ``public_from`` in the future the record is approved ahead (a doctoral thesis before its
    nailing day): it is published, but every public query hides it until that moment, and its
    datestamp is that moment so that incremental OAI-PMH harvests find it on the day.
    """
    pub = session.get(Publication, publication_id)
    if pub is None or not can(actor, "read", pub):
        raise NotFound(f"no publication {publication_id}")
    if not can(actor, "publish", pub):
        raise PermissionDenied("only an editor of the record's institution may publish it")
    if pub.state not in ("draft", "submitted", "returned", "withdrawn"):
        raise Conflict(f"a {pub.state} publication cannot be published")
    now = utcnow()
    event = WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action="publish", from_state=pub.state,
                          to_state="published", comment=comment, at=now)
    scheduled = public_from if public_from is not None and public_from > now else None
    pub.state = "published"
    pub.urn_nbn = pub.urn_nbn or mint_urn(pub, urn_prefix)
    pub.public_from = scheduled
    pub.published_at = scheduled or pub.published_at or now
    pub.withdrawn_at = pub.withdrawn_reason = None
    pub.updated_at = now
    pub.datestamp = scheduled or now
    session.add(event)
    session.commit()
    log.info("published record=%s by user=%s", pub.id, actor.id)
    return pub


def withdraw(actor: User, publication_id: int, reason: str) -> Publication:
    """Take a public record down, leaving a tombstone page and an OAI-PMH deleted record."""
    pub = session.get(Publication, publication_id)
    if pub is None:
        raise NotFound(f"no publication {publication_id}")
    if not can(actor, "withdraw", pub):
        raise PermissionDenied("only an editor of the record's institution may withdraw it")
    if pub.state != "published":
        raise Conflict(f"a {pub.state} publication cannot be withdrawn")
    if not reason or not reason.strip():
        raise Invalid({"reason": ["say why the publication is withdrawn; the tombstone page shows it"]})
    now = utcnow()
    session.add(WorkflowEvent(publication_id=pub.id, actor_id=actor.id, action="withdraw", from_state="published",
                              to_state="withdrawn", comment=reason.strip(), at=now))
    pub.state = "withdrawn"
    pub.withdrawn_reason = reason.strip()
    pub.withdrawn_at = pub.updated_at = pub.datestamp = now
    session.commit()
    return pub


def history(actor: User | None, publication_id: int) -> list[WorkflowEvent]:
    pub = session.get(Publication, publication_id)
    if pub is None or not can(actor, "read_history", pub):
        raise NotFound(f"no publication {publication_id}")
    return list(session.scalars(select(WorkflowEvent).where(WorkflowEvent.publication_id == publication_id)
                                .order_by(WorkflowEvent.at, WorkflowEvent.id)))


def recent_publications(limit: int = 20) -> list[Publication]:
    """The newest public records, for the home page."""
    return list(session.scalars(
        select(Publication).where(public_filter())
        .order_by(Publication.published_at.desc(), Publication.id.desc()).limit(limit)))


def as_of_today() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()
