"""The permission table walked as a matrix: every kind of user against every action, on a draft and a public record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from repository.models import Publication, StoredFile, utcnow
from repository.permissions import can, can_download, oai_filter, public_filter, visible_filter
from repository.services import records
from repository.db import session
from tests import factories

ACTORS = ("anonymous", "owner", "other_submitter", "editor", "foreign_editor", "administrator")
ACTIONS = ("read", "edit", "submit", "review", "publish", "return", "reject", "withdraw", "download_restricted")

# Who may do what to a DRAFT owned by "owner" at institution uu.
DRAFT = {
    "anonymous":       set(),
    "owner":           {"read", "edit", "submit", "download_restricted"},
    "other_submitter": set(),
    "editor":          set(ACTIONS),
    "foreign_editor":  set(),
    "administrator":   set(ACTIONS),
}
# ... and to the same record once SUBMITTED: the submitter may no longer change it.
SUBMITTED = {**DRAFT, "owner": {"read", "download_restricted"}}
# ... and once PUBLISHED: everyone reads it; only its editors act on it.
PUBLISHED = {
    "anonymous":       {"read"},
    "owner":           {"read", "download_restricted"},
    "other_submitter": {"read"},
    "editor":          set(ACTIONS),
    "foreign_editor":  {"read"},
    "administrator":   set(ACTIONS),
}


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    kth = factories.institution("kth", "KTH", "kth.se")
    return {
        "anonymous": None,
        "owner": factories.user("submitter", uu),
        "other_submitter": factories.user("submitter", uu),
        "editor": factories.user("editor", uu),
        "foreign_editor": factories.user("editor", kth),
        "administrator": factories.user("administrator", kth),
    }


def allowed(people: dict[str, Any], pub: Publication) -> dict[str, set[str]]:
    return {who: {a for a in ACTIONS if can(people[who], a, pub)} for who in ACTORS}


def test_matrix_over_the_life_of_a_record(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["owner"], factories.article())
    assert allowed(people, pub) == DRAFT
    pub.state = "submitted"
    assert allowed(people, pub) == SUBMITTED
    pub.state = "returned"
    assert allowed(people, pub) == DRAFT
    records.publish_now(people["editor"], pub.id, urn_prefix="urn:nbn:se")
    assert allowed(people, pub) == PUBLISHED


def test_an_inactive_account_counts_as_anonymous(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["owner"], factories.article())
    people["editor"].active = False
    assert not any(can(people["editor"], a, pub) for a in ACTIONS)


def test_restricted_and_embargoed_files(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["owner"], factories.article())
    records.publish_now(people["editor"], pub.id, urn_prefix="urn:nbn:se")
    today = dt.date(2025, 1, 1)
    restricted = StoredFile(access="restricted")
    embargoed = StoredFile(access="embargoed", embargo_until=dt.date(2025, 6, 1))
    opened = StoredFile(access="open")
    for who in ACTORS:
        may = who in ("owner", "editor", "administrator")
        assert can_download(people[who], restricted, pub, today) is may, who
        assert can_download(people[who], embargoed, pub, today) is may, who
        assert can_download(people[who], embargoed, pub, dt.date(2025, 6, 1)) is True, who
        assert can_download(people[who], opened, pub, today) is True, who


def test_a_scheduled_record_and_its_files_wait_for_their_moment(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["owner"], factories.doctoral_thesis())
    moment = utcnow() + dt.timedelta(days=3)
    records.publish_now(people["editor"], pub.id, urn_prefix="urn:nbn:se", public_from=moment)
    assert pub.state == "published" and pub.public_from == moment and pub.datestamp == moment
    assert not can(None, "read", pub) and not pub.is_public
    assert can(people["owner"], "read", pub) and can(people["editor"], "read", pub)
    opened = StoredFile(access="open")
    assert not can_download(None, opened, pub, moment.date())
    assert can_download(None, opened, pub, moment.date(), now=moment)

    def listed(clause) -> bool:  # type: ignore[no-untyped-def]
        return session.scalar(select(Publication.id).where(clause, Publication.id == pub.id)) is not None

    assert not listed(public_filter()) and not listed(oai_filter()) and not listed(visible_filter(None))
    assert listed(public_filter(moment)) and listed(oai_filter(moment))
    assert listed(visible_filter(people["owner"]))
    assert pub.id not in [p.id for p in records.recent_publications()]


def test_oai_keeps_withdrawn_public_records_as_deleted_but_never_rejected_ones(people: dict[str, Any]) -> None:
    public = records.create_publication(people["owner"], factories.article())
    records.publish_now(people["editor"], public.id, urn_prefix="urn:nbn:se")
    records.withdraw(people["editor"], public.id, "Duplicate of another record")
    never = records.create_publication(people["owner"], factories.article(titles=[{"title": "Never public"}]))
    never.state = "deleted"
    session.commit()
    ids = set(session.scalars(select(Publication.id).where(oai_filter())))
    assert public.id in ids and never.id not in ids
