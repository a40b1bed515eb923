"""The ``harvest`` command group through click's runner on a minimal Flask app, against a live OAI-PMH server."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from harvest import store
from harvest.cli import harvest_cli
from harvest.works_export import CSV_COLUMNS
from tests.harvest_server import OAITestServer, identify

FAST = ["--timeout", "2", "--min-interval", "0"]


@pytest.fixture
def cli(engine: Engine) -> FlaskCliRunner:
    app = Flask("harvest-cli-test")
    app.config["DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    return app.test_cli_runner()


@pytest.fixture
def diva(oai_server: OAITestServer) -> OAITestServer:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "swepub_mods", "set": "SwePub-kth"},
                     "swepub-redux/local_personid_from_candidate.xml")
    return oai_server


def test_add_list_run_status_export(cli: FlaskCliRunner, diva: OAITestServer) -> None:
    added = cli.invoke(harvest_cli, ["add-source", "diva", diva.url, "--prefix", "swepub_mods", "--set", "SwePub-kth"])
    assert added.exit_code == 0, added.output
    assert "Source diva added" in added.output
    assert "not identified yet" in cli.invoke(harvest_cli, ["list"]).output

    ran = cli.invoke(harvest_cli, ["run", *FAST])
    assert ran.exit_code == 0, ran.output
    assert "diva: succeeded, 1 pages, added 3, updated 0, deleted 0, rejected 0" in ran.output
    listed = cli.invoke(harvest_cli, ["list"]).output
    assert "granularity YYYY-MM-DDThh:mm:ssZ, deletedRecord persistent" in listed

    status = cli.invoke(harvest_cli, ["status"]).output
    assert status.startswith("diva: 3 accepted, 0 rejected, 0 deleted; last run #1 full succeeded")

    lines = cli.invoke(harvest_cli, ["export", "--format", "jsonl"]).output.splitlines()
    assert len(lines) == 1
    work = json.loads(lines[0])
    assert work["institutions"] == ["kth", "umu", "uu"]
    assert len(work["sources"]) == 3 and all(s["source"] == "diva" for s in work["sources"])
    assert any(s["reason"].startswith("DOI 10.1007/s11192-019-03121-z equal") for s in work["sources"])
    assert "orcid_invalid:error" in work["quality_flags"]

    table = list(csv.reader(io.StringIO(cli.invoke(harvest_cli, ["export", "--format", "csv"]).output)))
    assert tuple(table[0]) == CSV_COLUMNS and len(table) == 2
    row = dict(zip(CSV_COLUMNS, table[1], strict=True))
    assert row["doi"] == "10.1007/s11192-019-03121-z" and row["institutions"] == "kth;umu;uu"
    assert row["year"] == "2019" and row["record_count"] == "3"


def test_operator_split_and_merge(cli: FlaskCliRunner, diva: OAITestServer) -> None:
    cli.invoke(harvest_cli, ["add-source", "diva", diva.url, "--prefix", "swepub_mods", "--set", "SwePub-kth"])
    cli.invoke(harvest_cli, ["run", *FAST])
    split = cli.invoke(harvest_cli, ["split", "1", "2", "--by", "editor@kb.se", "--comment", "test"])
    assert split.exit_code == 0 and "force split of records 1 and 2 recorded" in split.output
    works = [json.loads(line) for line in cli.invoke(harvest_cli, ["export"]).output.splitlines()]
    assert sorted(len(w["sources"]) for w in works) == [1, 2]
    # The next harvest does not undo it.
    assert cli.invoke(harvest_cli, ["run", "diva", "--full", *FAST]).exit_code == 0
    assert len(cli.invoke(harvest_cli, ["export"]).output.splitlines()) == 2
    bad = cli.invoke(harvest_cli, ["merge", "1", "99", "--by", "editor@kb.se"])
    assert bad.exit_code != 0 and "no harvested record with id 99" in bad.output


def test_bad_input_is_a_clear_error(cli: FlaskCliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "repair.xsl"
    broken.write_text("<xsl:stylesheet", encoding="utf-8")
    result = cli.invoke(harvest_cli, ["add-source", "kth", "https://kth.diva-portal.org/dice/oai", "--prefix",
                                      "swepub_mods", "--xslt", str(broken)])
    assert result.exit_code != 0 and "not usable XML" in result.output
    result = cli.invoke(harvest_cli, ["add-source", "kth", "https://x.example.org/oai", "--prefix", "marc"])
    assert result.exit_code != 0 and "'marc' is not one of" in result.output
    result = cli.invoke(harvest_cli, ["run", "nowhere"])
    assert result.exit_code != 0 and "no source named 'nowhere'" in result.output
    assert "No sources yet" in cli.invoke(harvest_cli, ["list"]).output
    assert "No enabled sources to harvest." in cli.invoke(harvest_cli, ["run"]).output


def test_a_failed_run_exits_non_zero_with_its_reason(cli: FlaskCliRunner, oai_server: OAITestServer) -> None:
    oai_server.route({"verb": "Identify"}, identify())
    oai_server.route({"verb": "ListRecords", "metadataPrefix": "mods"}, "swepub-redux/chalmers.xml")
    cli.invoke(harvest_cli, ["add-source", "chalmers", oai_server.url, "--prefix", "mods"])
    result = cli.invoke(harvest_cli, ["run", "chalmers", *FAST])
    assert result.exit_code == 1
    assert "chalmers: failed, 0 pages" in result.output and "undefined_entity" in result.output
    status = cli.invoke(harvest_cli, ["status"]).output
    assert "last run #1 full failed" in status and "    undefined_entity: " in status


def test_institution_codes_schedules_and_filtered_exports(cli: FlaskCliRunner, engine: Engine,
                                                          diva: OAITestServer) -> None:
    bad = cli.invoke(harvest_cli, ["add-source", "eur", diva.url, "--prefix", "oai_dc", "--institution", "EUR!",
                                   "--schedule", "0 25 * * *"])
    assert bad.exit_code != 0
    assert "'EUR!' is not an organisation code" in bad.output and "outside 0-23" in bad.output
    added = cli.invoke(harvest_cli, ["add-source", "diva", diva.url, "--prefix", "swepub_mods", "--set", "SwePub-kth",
                                     "--institution", "kth", "--schedule", "@daily"])
    assert added.exit_code == 0, added.output
    assert cli.invoke(harvest_cli, ["run", *FAST]).exit_code == 0
    only_umu = cli.invoke(harvest_cli, ["export", "--institution", "umu", "--year", "2019"]).output.splitlines()
    assert [json.loads(line)["institutions"] for line in only_umu] == [["kth", "umu", "uu"]]
    assert cli.invoke(harvest_cli, ["export", "--year", "2018"]).output == ""
    refused = cli.invoke(harvest_cli, ["export", "--year", "last"])
    assert refused.exit_code != 0 and "year='last'" in refused.output


def test_a_source_held_by_another_harvester_is_skipped_not_failed(cli: FlaskCliRunner, engine: Engine,
                                                                   diva: OAITestServer) -> None:
    cli.invoke(harvest_cli, ["add-source", "diva", diva.url, "--prefix", "swepub_mods", "--set", "SwePub-kth"])
    with sessionmaker(bind=engine).begin() as s:
        assert store.take_lease(s, "diva", "celery@worker-3", dt.timedelta(minutes=5))
    result = cli.invoke(harvest_cli, ["run", *FAST])
    assert result.exit_code == 0  # cron overlapping a long run is no error
    assert "diva: skipped - source diva is being harvested by celery@worker-3" in result.output
