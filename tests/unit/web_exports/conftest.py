"""Records for the export endpoint tests: an institution with a unit tree, public records, a draft, a hostile title."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from repository.models import Institution, OrgUnit, Person, Publication, User
from repository.services import records
from tests import factories

HOSTILE_TITLE = "<script>alert('x')</script> & <b>bold</b> {braces} 100% $_#"


@dataclass
class World:
    uu: Institution
    fac: OrgUnit
    dept: OrgUnit
    author: Person
    submitter: User
    editor: User
    article: Publication  # by the author, in the department (so in the faculty too)
    thesis: Publication  # by the author, no unit
    minimal: Publication  # a title and a type, nothing else
    hostile: Publication  # a title that tries to run a script
    draft: Publication  # by the author, never published


def publish(editor: User, pub: Publication) -> Publication:
    return records.publish_now(editor, pub.id, urn_prefix="urn:nbn:se")


@pytest.fixture
def world(app: Flask) -> World:
    uu = factories.institution()
    fac = factories.unit(uu, "teknat", "Faculty of Science")
    dept = factories.unit(uu, "kemi", "Department of Chemistry", fac)
    author = factories.person("Öberg", "Åsa", "0000-0002-1825-0097", uu)
    submitter = factories.user("submitter", uu)
    editor = factories.user("editor", uu)
    by_author = [{"person_id": author.id, "affiliations": [{"org_unit_id": dept.id}]},
                 {"family": "Smith", "given": "John", "affiliations": [{"name": "University of Oxford"}]}]
    article = publish(editor, records.create_publication(submitter, factories.article(contributors=by_author)))
    thesis = publish(editor, records.create_publication(submitter, factories.doctoral_thesis(
        contributors=[{"person_id": author.id}, {"family": "Ek", "given": "Lars", "roles": ["ths"]}])))
    minimal = publish(editor, records.create_publication(
        submitter, {"publication_type": "ovr", "titles": [{"title": "Minimal"}]}))
    hostile = publish(editor, records.create_publication(submitter, factories.article(
        titles=[{"title": HOSTILE_TITLE, "lang": "eng"}], identifiers=[])))
    draft = records.create_publication(submitter, factories.article(
        titles=[{"title": "Secret draft"}], contributors=[{"person_id": author.id}], identifiers=[]))
    return World(uu, fac, dept, author, submitter, editor, article, thesis, minimal, hostile, draft)


def log_in(client, user: User) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
