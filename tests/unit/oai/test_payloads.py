"""Kept payloads: a harvest streams what an earlier one wrote, and never a copy that is no longer exact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import Connection, event, func, select, update
from sqlalchemy.exc import OperationalError

from repository.db import session
from repository.models import OaiPayload, Publication
from repository.oai import payloads, verbs
from repository.oai.settings import ProviderSettings
from repository.services import records
from tests import factories
from tests.unit.oai.conftest import OAI, World, harvest, oai_get, oai_id, parse

UTC = dt.timezone.utc
DC = "{http://purl.org/dc/elements/1.1/}"


def _records(pages: list[etree._Element]) -> dict[str, bytes]:
    return {r.findtext(f"{OAI}header/{OAI}identifier"): etree.tostring(r, method="c14n")
            for page in pages for r in page.iter(f"{OAI}record")}


def _kept(prefix: str) -> dict[int, OaiPayload]:
    return {p.publication_id: p for p in session.scalars(select(OaiPayload).where(OaiPayload.metadata_prefix == prefix))}


@pytest.mark.parametrize("prefix", ["oai_dc", "mods", "swepub_mods"])
def test_a_second_harvest_streams_the_kept_copies_and_gives_the_same_records(
        client: FlaskClient, world: World, connection: Connection, prefix: str) -> None:
    _, cold = harvest(client, "ListRecords", metadataPrefix=prefix)
    kept = _kept(prefix)
    shown = {world.ids[n] for n in ("article", "thesis", "student", "no_content", "greek", "kth")}
    assert set(kept) == shown  # every record shown, none deleted, draft or scheduled
    statements: list[str] = []
    event.listen(connection, "before_cursor_execute", lambda *a: statements.append(a[2]))
    _, warm = harvest(client, "ListRecords", metadataPrefix=prefix)
    assert _records(warm) == _records(cold)
    # Nothing of the records was read again: no part table, no upsert.
    assert not [s for s in statements if "publication_titles" in s or "INSERT" in s]


def test_an_edit_is_served_at_once(client: FlaskClient, world: World) -> None:
    harvest(client, "ListRecords", metadataPrefix="oai_dc")
    pub = session.get(Publication, world.ids["article"])
    editor = factories.user("editor", world.uu, "second-editor@example.org")
    records.update_publication(editor, pub.id, factories.article(titles=[{"title": "A title edited after harvest"}]),
                               pub.version)
    doc = oai_get(client, verb="GetRecord", identifier=world.oai("article"), metadataPrefix="oai_dc")
    assert doc.findtext(f".//{DC}title") == "A title edited after harvest"
    assert _kept("oai_dc")[pub.id].datestamp == session.get(Publication, pub.id).datestamp


def _get_record(app: Flask, identifier: str, now: dt.datetime) -> etree._Element:
    settings = ProviderSettings.from_config(app.config)
    body = b"".join(verbs.respond(session, settings, [("verb", "GetRecord"), ("identifier", identifier),
                                                      ("metadataPrefix", "oai_dc")], now=now))
    return parse(body)


def test_a_copy_is_served_only_within_its_embargo_window(app: Flask, world: World) -> None:
    lifts = dt.date.today() + dt.timedelta(days=400)  # the world's KTH record's full text
    before = dt.datetime.combine(lifts - dt.timedelta(days=1), dt.time(12), UTC)
    doc = _get_record(app, world.oai("kth"), before)
    assert f"info:eu-repo/date/embargoEnd/{lifts.isoformat()}" in [d.text for d in doc.iter(f"{DC}date")]
    copy = _kept("oai_dc")[world.ids["kth"]]
    assert (copy.valid_from, copy.valid_until) == (None, lifts)

    after = _get_record(app, world.oai("kth"), dt.datetime.combine(lifts, dt.time(12), UTC))
    assert "info:eu-repo/semantics/openAccess" in [r.text for r in after.iter(f"{DC}rights")]
    assert "openaccess" in [s.text for s in after.iter(f"{OAI}setSpec")]
    session.expire_all()
    copy = _kept("oai_dc")[world.ids["kth"]]
    assert (copy.valid_from, copy.valid_until) == (lifts, None)
    # And the day before is not served from the copy written after the lift.
    again = _get_record(app, world.oai("kth"), before)
    assert "openaccess" not in [s.text for s in again.iter(f"{OAI}setSpec")]


def test_a_copy_written_for_another_site_is_not_served(client: FlaskClient, app: Flask, world: World,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    harvest(client, "ListRecords", metadataPrefix="oai_dc")
    monkeypatch.setitem(app.config, "BASE_URL", "https://diva.example.org")
    doc = oai_get(client, verb="GetRecord", identifier=world.oai("article"), metadataPrefix="oai_dc")
    assert "https://diva.example.org/publications/%d" % world.ids["article"] in \
        [i.text for i in doc.iter(f"{DC}identifier")]
    generations = session.scalars(select(OaiPayload.generation).distinct()).all()
    assert len(generations) == 2  # the other records keep theirs until they are asked for


def test_a_copy_under_another_datestamp_is_written_anew(client: FlaskClient, world: World) -> None:
    harvest(client, "ListRecords", metadataPrefix="oai_dc")
    pub_id = world.ids["greek"]
    session.execute(update(OaiPayload).where(OaiPayload.publication_id == pub_id)
                    .values(xml=b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"/>',
                            datestamp=dt.datetime(2019, 1, 1, tzinfo=UTC)))
    session.commit()
    doc = oai_get(client, verb="GetRecord", identifier=oai_id(pub_id), metadataPrefix="oai_dc")
    assert doc.findtext(f".//{DC}title") == "Ωμέγα"


def test_a_request_that_cannot_keep_its_records_still_answers(client: FlaskClient, world: World,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise OperationalError("INSERT INTO oai_payloads", {}, Exception("attempt to write a readonly database"))

    monkeypatch.setattr(payloads, "keep", refuse)
    found, _ = harvest(client, "ListRecords", metadataPrefix="oai_dc")
    assert len(found) == 7  # six shown and one deleted
    assert session.scalar(select(func.count()).select_from(OaiPayload)) == 0


def test_warm_writes_each_shown_record_once_per_format(app: Flask, world: World) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["oai", "warm"])
    assert first.exit_code == 0, first.output
    assert "6 records, 3 format(s): 18 payloads written, 0 were current" in first.output
    assert len(_kept("mods")) == len(_kept("swepub_mods")) == len(_kept("oai_dc")) == 6
    again = runner.invoke(args=["oai", "warm", "--format", "oai_dc"])
    assert "6 records, 1 format(s): 0 payloads written, 6 were current" in again.output
