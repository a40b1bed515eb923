"""The deposit service: drafts in steps, contributors, constituent papers, SwePub checks and submission."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from repository.errors import Conflict, Invalid, NotFound, PermissionDenied
from repository.models import WorkflowEvent
from repository.services import deposit, duplicates, records
from repository.services.readmodel import Site
from tests import factories

SITE = Site("http://hylla.test", "hylla.test")
URN = "urn:nbn:se"


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    uu = factories.institution()
    return {"uu": uu, "submitter": factories.user("submitter", uu), "other": factories.user("submitter", uu),
            "editor": factories.user("editor", uu)}


def start(world: dict[str, Any], **overrides: Any):  # type: ignore[no-untyped-def]
    data = {"publication_type": "art", "titles": [{"title": "Ålgräs i Östersjön"}], "issued": "2024"}
    data.update(overrides)
    return deposit.create_draft(world["submitter"], data)


def test_steps_replace_only_their_part_and_keep_the_rest(world: dict[str, Any]) -> None:
    pub = start(world)
    pub = deposit.update_draft(world["submitter"], pub.id, {
        "host": {"title": "Marine Ecology Progress Series", "issn": "01718630", "volume": "12"},
        "languages": ["swe"], "content_type": "ref"}, pub.version)
    pub = deposit.add_contributor(world["submitter"], pub.id, {"family": "Öberg", "given": "Åsa"}, pub.version)
    pub = deposit.add_contributor(world["submitter"], pub.id, {"family": "Smith", "given": "John",
                                  "affiliations": [{"name": "University of Oxford"}]}, pub.version)
    pub = deposit.move_contributor(world["submitter"], pub.id, 1, -1, pub.version)
    assert [c.family_name for c in pub.contributors] == ["Smith", "Öberg"]
    assert pub.host_issn == "0171-8630" and pub.main_title == "Ålgräs i Östersjön" and pub.issued_year == 2024
    pub = deposit.remove_contributor(world["submitter"], pub.id, 0, pub.version)
    assert [c.family_name for c in pub.contributors] == ["Öberg"]
    assert pub.host_title == "Marine Ecology Progress Series" and pub.state == "draft"


def test_a_stale_form_is_refused(world: dict[str, Any]) -> None:
    pub = start(world)
    old = pub.version
    deposit.update_draft(world["submitter"], pub.id, {"languages": ["eng"]}, old)
    with pytest.raises(Conflict, match="changed by someone else"):
        deposit.update_draft(world["submitter"], pub.id, {"languages": ["swe"]}, old)


def test_changing_the_type_drops_thesis_details_and_the_derived_output_type(world: dict[str, Any]) -> None:
    pub = start(world, publication_type="dok", thesis={"level": "doctoral"})
    assert pub.output_type and pub.thesis is not None
    pub = deposit.update_draft(world["submitter"], pub.id, {"publication_type": "rap"}, pub.version)
    assert pub.thesis is None and pub.output_type == "publication/report"


def test_bad_field_input_names_its_field(world: dict[str, Any]) -> None:
    pub = start(world)
    with pytest.raises(Invalid) as caught:
        deposit.update_draft(world["submitter"], pub.id, {"host": {"title": "J", "issn": "1234-5678"}}, pub.version)
    assert list(caught.value.errors) == ["host.issn"]


def test_someone_elses_draft_is_not_found(world: dict[str, Any]) -> None:
    pub = start(world)
    with pytest.raises(NotFound):
        deposit.get_draft(world["other"], pub.id)
    with pytest.raises(NotFound):
        deposit.update_draft(world["other"], pub.id, {"languages": ["eng"]}, pub.version)
    with pytest.raises(NotFound):
        deposit.submit(world["other"], pub.id, SITE, URN)


def test_submit_is_refused_while_swepub_would_reject_and_names_the_fields(world: dict[str, Any]) -> None:
    pub = start(world)
    with pytest.raises(Invalid) as caught:
        deposit.submit(world["submitter"], pub.id, SITE, URN)
    assert {"contributors", "content_type", "languages"} <= set(caught.value.errors)
    assert "identifiers" not in caught.value.errors  # the URI is minted on publishing
    assert records.get_publication(world["submitter"], pub.id).state == "draft"


def complete_article(world: dict[str, Any]):  # type: ignore[no-untyped-def]
    return deposit.create_draft(world["submitter"], factories.article())


def test_submit_then_no_more_edits_by_the_submitter(world: dict[str, Any]) -> None:
    pub = complete_article(world)
    pub = deposit.submit(world["submitter"], pub.id, SITE, URN, comment="Please check the ISSN")
    assert pub.state == "submitted"
    with pytest.raises(Conflict, match="no longer be changed"):
        deposit.update_draft(world["submitter"], pub.id, {"languages": ["eng"]}, pub.version)
    with pytest.raises(Conflict):
        deposit.submit(world["submitter"], pub.id, SITE, URN)
    events = records.history(world["submitter"], pub.id)
    assert [(e.action, e.comment) for e in events] == [("create", None), ("submit", "Please check the ISSN")]


def test_a_submitter_may_not_publish(world: dict[str, Any]) -> None:
    pub = complete_article(world)
    with pytest.raises(PermissionDenied):
        records.publish_now(world["submitter"], pub.id, urn_prefix=URN)


def test_preflight_sees_the_record_as_published(world: dict[str, Any]) -> None:
    pub = complete_article(world)
    verdict = deposit.preflight(pub, SITE, URN)
    assert verdict.accepted, verdict.problems
    assert not deposit.blocking_problems(verdict)


def test_constituent_papers_link_records_by_number(world: dict[str, Any]) -> None:
    paper = complete_article(world)
    thesis = deposit.create_draft(world["submitter"], factories.doctoral_thesis(
        related=[{"related_id": paper.id}, {"title": "Manuscript in preparation"}]))
    assert [(r.related_id, r.title) for r in thesis.relations] == [
        (paper.id, paper.main_title), (None, "Manuscript in preparation")]
    hidden = deposit.create_draft(world["other"], factories.article(titles=[{"title": "Hidden"}]))
    with pytest.raises(Invalid) as caught:
        deposit.update_draft(world["submitter"], thesis.id, {"related": [{"related_id": hidden.id}]}, thesis.version)
    assert "related[0].related_id" in caught.value.errors
    with pytest.raises(Invalid):
        deposit.update_draft(world["submitter"], thesis.id, {"related": [{"related_id": thesis.id}]}, thesis.version)


def test_a_second_copy_is_shown_before_it_is_created(world: dict[str, Any]) -> None:
    first = complete_article(world)
    with pytest.raises(duplicates.PossibleDuplicates) as caught:
        deposit.create_draft(world["submitter"], factories.article(titles=[{"title": "Something else"}]))
    assert [(c.publication_id, c.reason) for c in caught.value.candidates] == [(first.id, "same DOI 10.3354/meps12345")]
    with pytest.raises(duplicates.PossibleDuplicates) as caught:
        deposit.create_draft(world["submitter"], factories.article(
            identifiers=[], titles=[{"title": "Ålgräsängar i  Östersjön!", "subtitle": "x"}]))
    assert "title" in caught.value.candidates[0].reason
    second = deposit.create_draft(world["submitter"], factories.article(), allow_duplicates=True)
    assert second.id != first.id


def test_duplicates_of_others_drafts_are_not_revealed(world: dict[str, Any]) -> None:
    deposit.create_draft(world["other"], factories.article())
    assert duplicates.find_for_record(world["submitter"], complete_article_for(world["submitter"])) == []


def complete_article_for(user):  # type: ignore[no-untyped-def]
    return deposit.create_draft(user, factories.article(), allow_duplicates=True)


def test_titles_that_differ_do_not_match() -> None:
    assert duplicates.similarity("Eelgrass meadows in the Baltic Sea", "Eelgrass Meadows in the Baltic sea.") == 1.0
    assert duplicates.similarity("Eelgrass meadows in the Baltic Sea", "Seagrass loss in the North Sea") < 0.9


def test_my_publications_lists_own_records_with_states(world: dict[str, Any]) -> None:
    mine = complete_article(world)
    deposit.submit(world["submitter"], mine.id, SITE, URN)
    draft = start(world, titles=[{"title": "Draft two"}])
    deposit.create_draft(world["other"], factories.article(titles=[{"title": "Not mine"}]), allow_duplicates=True)
    listed = deposit.my_publications(world["submitter"])
    assert {(p.id, p.state) for p in listed} == {(mine.id, "submitted"), (draft.id, "draft")}
    assert deposit.last_comment(mine.id, "submit") is not None
    assert isinstance(deposit.last_comment(mine.id, "submit"), WorkflowEvent)
