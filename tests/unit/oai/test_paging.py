"""Keyset paging with resumption tokens: complete and each-once lists, changes during a harvest, constant cost."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, event, update
from flask.testing import FlaskClient

from repository.models import Publication, User
from repository.db import session
from repository.services import records
from tests import factories
from tests.conftest import StatementCounter
from tests.unit.oai.conftest import OAI, World, at, error_codes, harvest, identifiers, oai_get, token_of

EVERYTHING = ["article", "thesis", "student", "withdrawn", "no_content", "greek", "kth"]


@pytest.fixture
def small_pages(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE_IDENTIFIERS", 2)
    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE_RECORDS", 3)


def editor_of(world: World) -> User:
    return session.query(User).filter_by(role="editor", institution_id=world.uu.id).first()


def test_pages_concatenate_to_the_whole_list(client: FlaskClient, world: World, small_pages: None) -> None:
    for verb, size in (("ListIdentifiers", 2), ("ListRecords", 3)):
        found, pages = harvest(client, verb, metadataPrefix="oai_dc")
        assert found == [world.oai(n) for n in EVERYTHING]
        tokens = [token_of(p) for p in pages]
        assert [int(t.get("cursor")) for t in tokens] == list(range(0, 7, size))
        assert {t.get("completeListSize") for t in tokens} == {"7"}
        assert all(t.text for t in tokens[:-1]) and not tokens[-1].text  # the last token is empty
        assert all(len(identifiers(p)) == size for p in pages[:-1])


def test_sets_and_dates_page_too(client: FlaskClient, world: World, small_pages: None) -> None:
    found, pages = harvest(client, "ListIdentifiers", metadataPrefix="mods", set="org:uu", until="2020-12-31")
    assert found == [world.oai(n) for n in ("article", "thesis", "student", "withdrawn", "no_content", "greek")]
    assert len(pages) == 3
    found, _ = harvest(client, "ListRecords", metadataPrefix="swepub_mods", set="SwePub-uu", **{"from": "2020-01-02"})
    assert found == [world.oai("withdrawn"), world.oai("greek")]


def test_complete_list_size_counts_exactly_what_the_list_shows(client: FlaskClient, world: World,
                                                                small_pages: None) -> None:
    # Hidden from OAI-PMH, and so from every count: a draft, a thesis scheduled for later (the
    # world has both), and a record withdrawn before it was ever public.
    session.execute(update(Publication).where(Publication.id == world.ids["draft"]).values(
        state="withdrawn", published_at=None, datestamp=at("2020-06-01 00:00:00")))
    unpublished = records.create_publication(editor_of(world), factories.article(titles=[{"title": "Never out"}]))
    session.execute(update(Publication).where(Publication.id == unpublished.id).values(
        datestamp=at("2020-06-01 00:00:00")))
    session.commit()
    counted = 0
    for args in ({}, {"set": "type:art"}, {"set": "theses"}, {"set": "org:uu"}, {"set": "org:uu:teknat"},
                 {"set": "openaccess"}, {"set": "content:ref", "from": "2020-01-01T10:00:00Z"},
                 {"from": "2020-02-01"}, {"until": "2020-12-31"}, {"from": "2020-01-02", "until": "2021-01-01"}):
        found, pages = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", **args)
        if len(pages) > 1:
            assert int(token_of(pages[0]).get("completeListSize")) == len(found), args
            counted += 1
    assert counted >= 7  # lists of one page carry no token, so nothing to compare


def test_reissuing_a_token_gives_the_same_page(client: FlaskClient, world: World, small_pages: None) -> None:
    first = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = token_of(first).text
    again = oai_get(client, verb="ListIdentifiers", resumptionToken=token)
    once_more = oai_get(client, verb="ListIdentifiers", resumptionToken=token)
    assert identifiers(again) == identifiers(once_more) == [world.oai("student"), world.oai("withdrawn")]


def test_a_token_belongs_to_its_verb(client: FlaskClient, world: World, small_pages: None) -> None:
    token = token_of(oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")).text
    assert error_codes(oai_get(client, verb="ListRecords", resumptionToken=token)) == ["badResumptionToken"]
    body, _, mac = token.partition(".")
    altered = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    assert error_codes(oai_get(client, verb="ListIdentifiers", resumptionToken=f"{altered}.{mac}")) == ["badResumptionToken"]


def test_a_record_changed_during_a_harvest_is_delivered_again_later(client: FlaskClient, world: World,
                                                                    small_pages: None) -> None:
    first = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert identifiers(first) == [world.oai("article"), world.oai("thesis")]
    editor = editor_of(world)
    # one record already sent, one not yet: both get new datestamps (now) past the harvest's position
    for name in ("article", "greek"):
        pub = records.get_publication(editor, world.ids[name])
        records.update_publication(editor, pub.id, factories.article(titles=[{"title": f"Edited {name}"}]), pub.version)
    rest: list[str] = []
    params = {"verb": "ListIdentifiers", "resumptionToken": token_of(first).text}
    while True:
        doc = oai_get(client, **params)
        rest += identifiers(doc)
        if not token_of(doc).text:
            break
        params["resumptionToken"] = token_of(doc).text
    assert rest == [world.oai(n) for n in ("student", "withdrawn", "no_content", "kth", "article", "greek")]
    everything = identifiers(first) + rest
    assert set(everything) == {world.oai(n) for n in EVERYTHING}  # nothing skipped
    assert everything.count(world.oai("article")) == 2  # the changed record again, in its new form


def test_a_record_moved_past_until_comes_with_the_next_harvest(client: FlaskClient, world: World,
                                                               small_pages: None) -> None:
    """Specification 3.5.1: a re-dated record may leave a list's range; 2.7.1: the next ``from`` harvest has it."""
    first = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc", until="2020-12-31")
    started = first.findtext(f"{OAI}responseDate")
    editor = editor_of(world)
    pub = records.get_publication(editor, world.ids["greek"])  # not sent yet
    records.update_publication(editor, pub.id, factories.article(titles=[{"title": "Edited Greek"}]), pub.version)
    rest, _ = harvest_on(client, token_of(first).text)
    this_harvest = identifiers(first) + rest
    assert world.oai("greek") not in this_harvest  # its datestamp is no longer in the requested range
    assert set(this_harvest) == {world.oai(n) for n in ("article", "thesis", "student", "withdrawn", "no_content")}
    next_harvest, _ = harvest(client, "ListIdentifiers", metadataPrefix="oai_dc", **{"from": started})
    assert world.oai("greek") in next_harvest


def harvest_on(client: FlaskClient, token: str) -> tuple[list[str], int]:
    found: list[str] = []
    pages = 0
    while token:
        doc = oai_get(client, verb="ListIdentifiers", resumptionToken=token)
        found += identifiers(doc)
        pages += 1
        token = token_of(doc).text or ""
    return found, pages


def test_a_record_withdrawn_during_a_harvest_comes_later_as_deleted(client: FlaskClient, world: World,
                                                                    small_pages: None) -> None:
    first = oai_get(client, verb="ListRecords", metadataPrefix="oai_dc")
    records.withdraw(editor_of(world), world.ids["article"], "Retracted by the journal.")
    token = token_of(first).text
    last = None
    while token:
        last = oai_get(client, verb="ListRecords", resumptionToken=token)
        token = token_of(last).text
    header = list(last.iter(f"{OAI}header"))[-1]
    assert header.findtext(f"{OAI}identifier") == world.oai("article")
    assert header.get("status") == "deleted"
    assert token_of(last).get("completeListSize") == "8"  # revised on the last page: what was really sent


def test_a_deep_page_costs_what_the_first_costs(client: FlaskClient, world: World, app: Flask,
                                                monkeypatch: pytest.MonkeyPatch, connection: Connection,
                                                count_statements: StatementCounter) -> None:
    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE_RECORDS", 1)
    offsets: list[Any] = []

    def offset_of(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        for given in re.findall(r"OFFSET (\d+|\?|%\(\w+\)s)", statement):
            if given.isdigit():  # written into the SQL (the facts statement's "OFFSET 0" planner fence)
                offsets.append(int(given))
            elif isinstance(parameters, dict):  # PostgreSQL: OFFSET %(name)s
                offsets.append(parameters[given.removeprefix("%(").removesuffix(")s")])
            else:  # SQLAlchemy's SQLite dialect always writes "LIMIT ? OFFSET ?"
                offsets.append(parameters[-1])

    event.listen(connection, "before_cursor_execute", offset_of)
    counts: list[int] = []
    keyset: list[str] = []
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    while True:
        before = count_statements.count
        doc = oai_get(client, **params)
        statements = count_statements.statements[before:]
        counts.append(len(statements))
        keyset += [s for s in statements if "ORDER BY publications.datestamp, publications.id" in s]
        token = token_of(doc)
        if not token.text:
            break
        params = {"verb": "ListRecords", "resumptionToken": token.text}
    assert len(counts) == 7
    # one bounded batch of queries per page, whatever its depth (the first also counts the list:
    # its rows, then the hidden ones, see queries.count)
    assert max(counts) <= 24
    assert counts[0] - 2 <= max(counts[1:])
    # every resumed page is the same keyset statement, with no OFFSET anywhere
    assert len(set(keyset[1:])) == 1 and "(publications.datestamp, publications.id) >" in keyset[1]
    event.remove(connection, "before_cursor_execute", offset_of)
    assert set(offsets) <= {0}  # never skips rows by counting them


def test_statements_per_page_do_not_grow_with_the_page(client: FlaskClient, world: World, app: Flask,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       count_statements: StatementCounter) -> None:
    sizes = {}
    for size in (1, 7):
        monkeypatch.setitem(app.config, "OAI_PAGE_SIZE_RECORDS", size)
        before = count_statements.count
        oai_get(client, verb="ListRecords", metadataPrefix="mods")
        sizes[size] = count_statements.count - before
    # a page of seven records needs no more queries than a page of one (which also counts the list)
    assert sizes[7] <= sizes[1] <= 24


def test_a_list_size_is_counted_again_only_when_a_record_changed(client: FlaskClient, world: World, app: Flask,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  count_statements: StatementCounter) -> None:
    def first_page() -> tuple[str, int]:
        before = count_statements.count
        doc = oai_get(client, verb="ListIdentifiers", metadataPrefix="oai_dc")
        counts = [s for s in count_statements.statements[before:] if "count(*)" in s.lower()]
        return token_of(doc).get("completeListSize"), len(counts)

    monkeypatch.setitem(app.config, "OAI_PAGE_SIZE_IDENTIFIERS", 2)
    assert first_page() == ("7", 2)  # the list's rows, then the hidden ones (queries.count)
    assert first_page() == ("7", 0)  # nothing changed: remembered
    editor = factories.user("editor", world.uu, "counting-editor@example.org")
    pub = records.create_publication(editor, factories.article(titles=[{"title": "Published meanwhile"}]))
    assert first_page() == ("7", 2)  # a new draft moves the mark (the highest id), the size stays
    records.publish_now(editor, pub.id, urn_prefix="urn:nbn:se")
    assert first_page() == ("8", 2)
    records.withdraw(editor, pub.id, "Published by mistake.")
    assert first_page() == ("8", 2)  # deleted records stay in the list, moved by their new datestamp
    assert first_page() == ("8", 0)
