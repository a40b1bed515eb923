"""The bulk read-model builder gives, record for record, what ``to_read_model`` gives from the ORM.

``readmodels_bulk.read_models`` (Core rows, one query per part table) feeds OAI-PMH pages and
``to_read_model`` (one ORM record) feeds the landing page and exports; both go through
``readmodel.assemble``, and this equality is what keeps their two ways of reading parts together:
over the whole demo repository (every state, withdrawn records included) and over hand-made
records with every part filled, on each database backend.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from repository.db import session
from repository.models import Contributor, Publication, StoredFile
from repository.services import records
from repository.services.readmodel import Site, to_read_model
from repository.services.readmodels_bulk import read_models
from tests import factories

SITE = Site("http://hylla.test", "hylla.test")


def _orm_read_models(ids: list[int]) -> dict[int, Any]:
    session.expunge_all()
    pubs = session.scalars(select(Publication).where(Publication.id.in_(ids))
                           .options(selectinload(Publication.contributors).raiseload(Contributor.person)))
    return {pub.id: to_read_model(pub, SITE) for pub in pubs}


def _assert_same(ids: list[int]) -> None:
    bulk = read_models(session, ids, SITE)
    orm = _orm_read_models(ids)
    assert sorted(bulk) == sorted(orm) == sorted(ids)
    for pub_id in ids:
        assert bulk[pub_id] == orm[pub_id], pub_id


def test_demo_repository_read_models_equal(demo_app: Flask) -> None:
    with demo_app.app_context():
        ids = list(session.scalars(select(Publication.id).order_by(Publication.id)))
        assert len(ids) >= 300
        for start in range(0, len(ids), 100):
            _assert_same(ids[start:start + 100])
        session.close()


def _everything(unit: Any, related_id: int) -> dict[str, Any]:
    """A record with every part the read model has, several of each where a record may have several."""
    return factories.doctoral_thesis(
        output_type="publication/doctoral-thesis",
        publication_status="published",
        titles=[{"title": "Proteinveckning", "subtitle": "i cellmembran", "lang": "swe"},
                {"title": "Protein folding", "lang": "eng", "kind": "translated"},
                {"title": "Veckning", "kind": "alternative"}],
        abstracts=[{"text": "Sammanfattning.", "lang": "swe"}, {"text": "Summary.", "lang": "eng"}],
        keywords=[{"term": "proteiner", "lang": "swe"}, {"term": "Proteins", "lang": "eng", "scheme": "lcsh"}],
        subjects=["10601", "106"],
        languages=["swe", "eng"],
        issued="2023-04-20",
        accepted="2023-03-01",
        online="2023-04-01",
        host={"kind": "book", "title": "Acta", "subtitle": "Series of theses", "isbn": "978-91-513-1234-7",
              "volume": "3", "issue": "2", "article_number": "e7", "page_start": "1", "page_end": "250",
              "publisher": "Uppsala universitet", "place": "Uppsala"},
        conference={"name": "Protein Days", "place": "Lund", "start": "2022-06-01", "end": "2022-06-03"},
        series=[{"title": "Digital Comprehensive Summaries", "issn": "1651-6214", "number": "2231"},
                {"title": "Acta Universitatis", "eissn": "2000-0898"}],
        publisher="Acta Universitatis Upsaliensis",
        place="Uppsala",
        edition="2nd ed.",
        extent="250 pages",
        creator_count=3,
        identifiers=[{"scheme": "isbn", "value": "978-91-513-1234-7", "qualifier": "print"},
                     {"scheme": "doi", "value": "10.1000/xyz123"}],
        contributors=[
            {"family": "Karlsson", "given": "Märta", "orcid": "0000-0002-1825-0097", "local_id": "mk1",
             "affiliations": [{"org_unit_id": unit.id}, {"name": "SciLifeLab", "country": "SE"}]},
            {"family": "Ek", "given": "Lars", "roles": ["ths", "aut"], "affiliations": [{"org_unit_id": unit.id}]},
            {"corporate_name": "Protein Consortium", "roles": ["ctb"]},
            {"family": "Redaktör", "given": "Rut", "roles": ["edt"], "scope": "host",
             "affiliations": [{"name": "Lund University", "country": "SE"}]},
        ],
        funding=[{"funder": "Vetenskapsrådet", "funder_id": "https://ror.org/03zttf063", "project_title": "Folding",
                  "project_id": "2019-01234", "grant_id": "G1"}, {"funder": "Formas"}],
        licence="https://creativecommons.org/licenses/by/4.0/",
        notes=[{"text": "A note.", "lang": "eng"}, {"text": "Ingen"}],
        links=[{"url": "https://example.org/data", "label": "Data"}, {"url": "https://example.org/code"}],
        related=[{"relation": "constituent", "title": "Paper I", "related_id": related_id},
                 {"relation": "references", "title": "Paper II", "url": "https://example.org/paper-ii"}],
        thesis={"level": "doctoral", "credits": "240 credits", "degree_name": "PhD", "programme": "Biology",
                "defence_at": "2023-05-12T09:15:00+00:00", "defence_place": "A1:111a, BMC",
                "nailing_date": "2023-04-20", "granting_institution": "Uppsala University"},
    )


def test_records_with_every_part_equal(app: Flask) -> None:
    uu = factories.institution()
    teknat = factories.unit(uu, "teknat", "Faculty of Science and Technology")
    kemi = factories.unit(uu, "kemi", "Department of Chemistry", teknat)
    submitter, editor = factories.user("submitter", uu), factories.user("editor", uu)
    paper = records.create_publication(submitter, factories.article())
    full = records.create_publication(submitter, _everything(kemi, paper.id))
    records.publish_now(editor, full.id, urn_prefix="urn:nbn:se")
    withdrawn = records.create_publication(submitter, _everything(teknat, paper.id))
    records.publish_now(editor, withdrawn.id, urn_prefix="urn:nbn:se")
    records.withdraw(editor, withdrawn.id, "Duplicate.")
    for position, (access, embargo) in enumerate((("open", None), ("embargoed", dt.date(2030, 1, 1)),
                                                  ("restricted", None))):
        session.add(StoredFile(publication_id=full.id, position=position, original_filename=f"del {position}.pdf",
                               sha256=f"{position}" * 64, md5=f"{position}" * 32, size=10 + position,
                               mime_type="application/pdf", role="fulltext" if position < 2 else "supplementary",
                               access=access, embargo_until=embargo, licence="https://creativecommons.org/licenses/by/4.0/",
                               version="accepted"))
    session.commit()
    ids = [paper.id, full.id, withdrawn.id]
    _assert_same(ids)
    model = read_models(session, [full.id], SITE)[full.id]
    # Every part is there, so the equality above compared something in each of them.
    assert all((model.titles, model.contributors, model.abstracts, model.keywords, model.subjects, model.languages,
                model.issued, model.accepted, model.online, model.host, model.host.editors, model.series,
                model.conference, model.identifiers, model.funding, model.notes, model.links, model.files,
                model.thesis, model.related, model.org_units, model.contributors[0].affiliations))
    assert len(model.files) == 3 and model.related[0].record_id == str(paper.id)


def test_missing_ids_are_left_out(app: Flask) -> None:
    assert read_models(session, [], SITE) == {}
    assert read_models(session, [987654321], SITE) == {}
