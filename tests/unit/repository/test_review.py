"""The review service: queue filters, return and resubmit, publish, scheduled theses, reject, withdraw, notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from repository.db import session
from repository.errors import Conflict, Gone, Invalid, NotFound, PermissionDenied
from repository.models import OutboxMessage, utcnow
from repository.services import deposit, records, review
from repository.services.readmodel import Site
from tests import factories

SITE = Site("http://hylla.test", "hylla.test")
URN = "urn:nbn:se"
BASE = "http://hylla.test"
TZ = "Europe/Stockholm"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    kth = factories.institution("kth", "KTH", "kth.se")
    fac = factories.unit(uu, "teknat", "Faculty of Science")
    kemi = factories.unit(uu, "kemi", "Chemistry", fac)
    return {"uu": uu, "kemi": kemi, "fac": fac, "submitter": factories.user("submitter", uu, "sub@example.org"),
            "editor": factories.user("editor", uu), "foreign": factories.user("editor", kth)}


def submitted(world: dict[str, Any], **overrides: Any):  # type: ignore[no-untyped-def]
    pub = deposit.create_draft(world["submitter"], factories.article(**overrides), allow_duplicates=True)
    return deposit.submit(world["submitter"], pub.id, SITE, URN)


def outbox(kind: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def test_return_resubmit_publish_with_history_and_mail(world: dict[str, Any]) -> None:
    pub = submitted(world)
    assert [i.publication.id for i in review.queue(world["editor"])] == [pub.id]
    with pytest.raises(Invalid, match="comment"):
        review.return_to_submitter(world["editor"], pub.id, "  ", base_url=BASE)
    review.return_to_submitter(world["editor"], pub.id, "Add the issue number, please.", base_url=BASE)
    assert pub.state == "returned" and review.queue(world["editor"]) == []
    [mail] = outbox("returned")
    assert mail.to_address == "sub@example.org" and "Add the issue number" in mail.body
    assert mail.transport == "log" and mail.sent_at is not None and f"/deposit/{pub.id}" in mail.body

    pub = deposit.update_draft(world["submitter"], pub.id, {"host": {"title": "Marine Ecology Progress Series",
                               "issn": "0171-8630", "volume": "12", "issue": "4"}}, pub.version)
    deposit.submit(world["submitter"], pub.id, SITE, URN)
    review.publish(world["editor"], pub.id, urn_prefix=URN, base_url=BASE, timezone=TZ, comment="Fine now")
    assert pub.state == "published" and pub.urn_nbn == f"urn:nbn:se:uu:hylla-{pub.id}" and pub.public_from is None
    assert [(e.action, e.actor_id, e.comment) for e in review.history(world["submitter"], pub.id)] == [
        ("create", world["submitter"].id, None), ("submit", world["submitter"].id, None),
        ("return", world["editor"].id, "Add the issue number, please."), ("update", world["submitter"].id, None),
        ("resubmit", world["submitter"].id, None), ("publish", world["editor"].id, "Fine now")]
    assert [m.subject for m in outbox("published")] == [f"Published: {pub.main_title}"]
    assert review.history(None, pub.id) == []


def test_only_editors_of_the_institution_review(world: dict[str, Any]) -> None:
    pub = submitted(world)
    assert review.queue(world["foreign"]) == []
    with pytest.raises(PermissionDenied):
        review.queue(world["submitter"])
    with pytest.raises(PermissionDenied):
        review.return_to_submitter(world["submitter"], pub.id, "x", base_url=BASE)
    with pytest.raises(NotFound):
        review.publish(world["foreign"], pub.id, urn_prefix=URN, base_url=BASE, timezone=TZ)
    with pytest.raises(PermissionDenied):
        review.publish(world["submitter"], pub.id, urn_prefix=URN, base_url=BASE, timezone=TZ)


def test_queue_filters_by_type_unit_and_age(world: dict[str, Any]) -> None:
    in_kemi = submitted(world, contributors=[{"family": "Ek", "affiliations": [{"org_unit_id": world["kemi"].id}]}])
    other = submitted(world, titles=[{"title": "Report"}], publication_type="rap", host=None)
    editor = world["editor"]
    assert [i.publication.id for i in review.queue(editor)] == [in_kemi.id, other.id]
    assert [i.publication.id for i in review.queue(editor, publication_type="rap")] == [other.id]
    assert [i.publication.id for i in review.queue(editor, unit_id=world["fac"].id)] == [in_kemi.id]
    later = utcnow() + dt.timedelta(days=10)
    assert len(review.queue(editor, min_age_days=7, now=later)) == 2
    assert review.queue(editor, min_age_days=7) == []
    assert review.queue(editor, now=later)[0].age_days(later) == 10
    with pytest.raises(Invalid):
        review.queue(editor, unit_id=999999)
    with pytest.raises(Invalid):
        review.queue(editor, min_age_days=-1)


def test_reject_leaves_no_tombstone(world: dict[str, Any]) -> None:
    pub = submitted(world)
    with pytest.raises(Invalid):
        review.reject(world["editor"], pub.id, "", base_url=BASE)
    review.reject(world["editor"], pub.id, "Not research output.", base_url=BASE)
    assert pub.state == "deleted"
    with pytest.raises(NotFound):
        records.get_publication(None, pub.id)
    assert records.get_publication(world["submitter"], pub.id).state == "deleted"
    assert "Not research output." in outbox("rejected")[0].body
    with pytest.raises(Conflict):
        review.reject(world["editor"], pub.id, "again", base_url=BASE)


def test_withdraw_leaves_a_tombstone(world: dict[str, Any]) -> None:
    pub = submitted(world)
    review.publish(world["editor"], pub.id, urn_prefix=URN, base_url=BASE, timezone=TZ)
    with pytest.raises(Invalid):
        review.withdraw(world["editor"], pub.id, " ", base_url=BASE)
    review.withdraw(world["editor"], pub.id, "Published by mistake", base_url=BASE)
    with pytest.raises(Gone, match="Published by mistake"):
        records.get_publication(None, pub.id)
    assert outbox("withdrawn")


def test_a_doctoral_thesis_is_scheduled_for_its_nailing_day(world: dict[str, Any]) -> None:
    nailing = (utcnow() + dt.timedelta(days=14)).date()
    thesis = deposit.create_draft(world["submitter"], factories.doctoral_thesis(
        thesis={"level": "doctoral", "defence_at": f"{nailing + dt.timedelta(days=21)}T09:15:00+00:00",
                "nailing_date": nailing.isoformat()}))
    deposit.submit(world["submitter"], thesis.id, SITE, URN)
    review.publish(world["editor"], thesis.id, urn_prefix=URN, base_url=BASE, timezone=TZ)
    assert thesis.state == "published" and thesis.public_from == review.nailing_moment(nailing, TZ)
    with pytest.raises(NotFound):
        records.get_publication(None, thesis.id)
    assert outbox("published")[0].subject == f"Approved for {nailing.isoformat()}: {thesis.main_title}"
    assert review.history(world["editor"], thesis.id)[-1].comment == f"public from {nailing.isoformat()}"


def test_a_past_nailing_day_publishes_at_once(world: dict[str, Any]) -> None:
    thesis = deposit.create_draft(world["submitter"], factories.doctoral_thesis())
    review.publish(world["editor"], thesis.id, urn_prefix=URN, base_url=BASE, timezone=TZ)
    assert thesis.public_from is None and records.get_publication(None, thesis.id) is thesis


def test_nailing_moment_is_local_midnight() -> None:
    assert review.nailing_moment(dt.date(2025, 1, 15), TZ) == dt.datetime(2025, 1, 14, 23, 0, tzinfo=dt.timezone.utc)
    assert review.nailing_moment(dt.date(2025, 6, 15), TZ) == dt.datetime(2025, 6, 14, 22, 0, tzinfo=dt.timezone.utc)
