"""The record services: creation, validation with field paths, optimistic locking, publish, withdraw."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from repository.db import database
from repository.errors import Conflict, Gone, Invalid, NotFound, PermissionDenied
from repository.models import Publication, PublicationIdentifier, WorkflowEvent
from repository.services import records
from repository.services.readmodel import to_read_model
from repository.web.context import site
from tests import factories


@pytest.fixture
def people(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    kth = factories.institution("kth", "KTH", "kth.se")
    return {
        "uu": uu,
        "kth": kth,
        "submitter": factories.user("submitter", uu),
        "other": factories.user("submitter", uu),
        "editor": factories.user("editor", uu),
        "kth_editor": factories.user("editor", kth),
        "admin": factories.user("administrator", kth),
    }


def count(model: type) -> int:
    return database().sessionmaker().scalar(select(func.count()).select_from(model))


def test_create_normalises_and_keeps_everything(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["submitter"], factories.article())
    assert pub.state == "draft" and pub.version == 1
    assert pub.output_type == "publication/journal-article"
    model = to_read_model(pub, site())
    assert model.doi == "10.3354/meps12345"  # resolver prefix gone, lower-cased
    assert model.title.full() == "Ålgräsängar i Östersjön: en översikt"
    assert [t.kind for t in model.titles] == ["main", "translated"]
    assert model.contributors[0].orcid == "0000-0002-1825-0097"
    assert model.contributors[1].affiliations[0].country == "GB"
    assert model.host is not None and model.host.issn == "0171-8630" and model.host.pages() == "101-118"
    assert model.subjects[0].code == "10501" and model.subjects[0].label_en
    assert model.issued is not None and model.issued.iso() == "2021-05-17"
    assert [e.action for e in records.history(people["submitter"], pub.id)] == ["create"]


def test_thesis_details_are_stored(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["submitter"], factories.doctoral_thesis())
    model = to_read_model(pub, site())
    assert model.thesis is not None and model.thesis.level == "doctoral"
    assert model.thesis.nailing_date.isoformat() == "2023-04-20"
    assert [c.roles for c in model.contributors] == [("aut",), ("ths",), ("opn",)]
    assert model.series[0].issn == "1651-6214"


BAD_INPUT = [
    ("bad ORCID checksum", {"contributors": [{"family": "A", "orcid": "0000-0002-1825-0098"}]}, "contributors[0].orcid", "check digit"),
    ("bad ISSN check digit", {"host": {"title": "J", "issn": "0171-8631"}}, "host.issn", "ISSN"),
    ("bad ISBN check digit", {"identifiers": [{"scheme": "isbn", "value": "978-91-513-1234-5"}]}, "identifiers[0].value", "ISBN"),
    ("malformed DOI", {"identifiers": [{"scheme": "doi", "value": "doi:11.12/x y"}]}, "identifiers[0].value", "DOI"),
    ("unknown publication type", {"publication_type": "blog"}, "publication_type", "unknown publication type"),
    ("year 3024", {"issued": "3024"}, "issued", "3024"),
    ("empty title", {"titles": [{"title": "   "}]}, "titles[0].title", "empty"),
    ("no title", {"titles": []}, "titles", "title"),
    ("unknown subject", {"subjects": ["99999"]}, "subjects[0]", "SSIF"),
    ("unknown language", {"languages": ["xx1"]}, "languages[0]", "language"),
    ("thesis without details", {"publication_type": "dok"}, "thesis", "thesis"),
]


@pytest.mark.parametrize(("case", "change", "path", "words"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_rejected_by_field_and_nothing_is_written(
        people: dict[str, Any], case: str, change: dict[str, Any], path: str, words: str) -> None:
    before = count(Publication)
    with pytest.raises(Invalid) as raised:
        records.create_publication(people["submitter"], factories.article(**change))
    assert path in raised.value.errors, raised.value.errors
    assert words.lower() in " ".join(raised.value.errors[path]).lower()
    assert count(Publication) == before


def test_a_json_array_is_not_a_publication(people: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as raised:
        records.create_publication(people["submitter"], [1, 2])
    assert "_schema" in raised.value.errors


def test_update_with_stale_version_is_a_conflict(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["submitter"], factories.article())
    first = records.update_publication(people["submitter"], pub.id, factories.article(issued="2022"), expected_version=1)
    assert first.version == 2
    with pytest.raises(Conflict):
        records.update_publication(people["submitter"], pub.id, factories.article(issued="2020"), expected_version=1)
    reloaded = database().sessionmaker().get(Publication, pub.id)
    assert reloaded.issued_year == 2022 and reloaded.version == 2


def test_submitter_may_not_edit_others_drafts_nor_publish(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["submitter"], factories.article())
    with pytest.raises(NotFound):  # others' drafts are not admitted to exist
        records.update_publication(people["other"], pub.id, factories.article(), expected_version=1)
    with pytest.raises(NotFound):
        records.get_publication(None, pub.id)
    with pytest.raises(PermissionDenied):
        records.publish_now(people["submitter"], pub.id, urn_prefix="urn:nbn:se")
    with pytest.raises(NotFound):  # another institution's editor does not see the draft at all
        records.publish_now(people["kth_editor"], pub.id, urn_prefix="urn:nbn:se")


def test_publish_mints_urn_and_withdraw_leaves_tombstone(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["submitter"], factories.article())
    published = records.publish_now(people["editor"], pub.id, urn_prefix="urn:nbn:se")
    assert published.urn_nbn == f"urn:nbn:se:uu:hylla-{pub.id}"
    stamp = published.datestamp
    model = to_read_model(published, site())
    assert model.identifier("uri") == f"https://urn.kb.se/resolve?urn=urn:nbn:se:uu:hylla-{pub.id}"
    assert records.get_publication(None, pub.id).id == pub.id

    # editing a public record is a public change: the OAI datestamp moves
    edited = records.update_publication(people["editor"], pub.id, factories.article(extent="18 pages"),
                                        expected_version=published.version)
    assert edited.datestamp >= stamp and edited.urn_nbn == published.urn_nbn

    with pytest.raises(Invalid):
        records.withdraw(people["editor"], pub.id, "  ")
    records.withdraw(people["editor"], pub.id, "Duplicate of another record")
    with pytest.raises(Gone) as gone:
        records.get_publication(None, pub.id)
    assert "Duplicate" in str(gone.value)
    actions = [e.action for e in records.history(people["editor"], pub.id)]
    assert actions == ["create", "publish", "update", "withdraw"]


def test_administrator_acts_across_institutions(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["submitter"], factories.article())
    assert records.publish_now(people["admin"], pub.id, urn_prefix="urn:nbn:se").state == "published"


def test_unknown_person_or_unit_is_named(people: dict[str, Any]) -> None:
    data = factories.article(contributors=[{"person_id": 987654, "roles": ["aut"]},
                                           {"family": "B", "affiliations": [{"org_unit_id": 424242}]}])
    with pytest.raises(Invalid) as raised:
        records.create_publication(people["submitter"], data)
    assert set(raised.value.errors) == {"contributors[0].person_id", "contributors[1].affiliations[0].org_unit_id"}


def test_identifiers_are_searchable_rows(people: dict[str, Any]) -> None:
    pub = records.create_publication(people["submitter"], factories.article())
    rows = database().sessionmaker().scalars(
        select(PublicationIdentifier).where(PublicationIdentifier.scheme == "doi",
                                            PublicationIdentifier.value == "10.3354/meps12345")).all()
    assert [r.publication_id for r in rows] == [pub.id]
    assert count(WorkflowEvent) >= 1
