"""The command line: db upgrade, users create, demo load (varied, deterministic, complete)."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from exports.readmodel import PUBLICATION_TYPES
from exports import identifiers
from repository import create_app
from repository.db import session
from repository.models import Publication, StoredFile, User
from repository.services import records
from repository.services.readmodel import to_read_model
from tests import factories
from repository.storage import FileStore
from repository.web.context import site
from tests.conftest import backends


def make_app(url: str, tmp_path: Path) -> Flask:
    return create_app({"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance"),
                       "SECRET_KEY": "x", "FILES_ROOT": str(tmp_path / "files"), "BASE_URL": "http://hylla.test"})


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_upgrade_demo_load_and_users(fresh_database_url: str, tmp_path: Path) -> None:
    app = make_app(fresh_database_url, tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output

    result = runner.invoke(args=["demo", "load", "--records", "600"])
    assert result.exit_code == 0, result.output
    assert "Loaded 600 publications" in result.output and "records/s" in result.output
    again = runner.invoke(args=["demo", "load", "--records", "10", "--once"])
    assert "already loaded" in again.output

    password_file = tmp_path / "pw"
    password_file.write_text("a long enough password\n")
    result = runner.invoke(args=["users", "create", "Editor@Example.org", "--role", "editor",
                                 "--password-file", str(password_file)])
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(args=["users", "create", "editor@example.org", "--password-file", str(password_file)])
    assert duplicate.exit_code != 0 and "exists already" in duplicate.output
    short = tmp_path / "short"
    short.write_text("short")
    weak = runner.invoke(args=["users", "create", "x@example.org", "--password-file", str(short)])
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output

    with app.app_context():
        user = session.scalar(select(User).where(User.email == "editor@example.org"))
        assert user is not None and user.role == "editor" and user.password_hash.startswith("$argon2id$")
        # a deposit after the demo load gets a fresh id (PostgreSQL's sequences moved past the demo's)
        deposited = records.create_publication(user, factories.article())
        assert deposited.id > 600 and deposited.contributors[0].id > 0

        pubs = list(session.scalars(select(Publication)))
        assert len(pubs) == 601
        types = Counter(p.publication_type for p in pubs)
        assert set(types) == set(PUBLICATION_TYPES), types
        states = Counter(p.state for p in pubs)
        assert states["published"] > 500 and states["draft"] >= 1 and states["withdrawn"] >= 1
        langs = Counter(p.languages[0].code for p in pubs)
        assert langs["swe"] > 100 and langs["eng"] > 100
        assert any("å" in p.main_title or "ö" in p.main_title or "ä" in p.main_title for p in pubs)

        accesses = Counter(f.access for p in pubs for f in p.files)
        assert set(accesses) == {"open", "embargoed", "restricted"}, accesses
        store = FileStore(tmp_path / "files")
        for f in session.scalars(select(StoredFile).limit(20)):
            data = store.path_for(f.sha256).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f.sha256 and data.startswith(b"%PDF-")

        for pub in pubs:
            model = to_read_model(pub, site())
            for c in model.contributors:
                if c.orcid:
                    identifiers.normalise_orcid(c.orcid)
            for ident in model.identifiers:
                assert identifiers.normalise_identifier(ident.scheme, ident.value)
            if model.host and model.host.issn:
                identifiers.normalise_issn(model.host.issn)
            if pub.publication_type in ("dok", "lic", "stud"):
                assert model.thesis is not None and model.contributors_in("ths")
            if pub.state == "published":
                assert model.identifier("uri", ) and pub.urn_nbn.startswith(f"urn:nbn:se:{pub.institution.code}:hylla-")

        client = app.test_client()
        published = next(p for p in pubs if p.state == "published")
        withdrawn = next(p for p in pubs if p.state == "withdrawn")
        draft = next(p for p in pubs if p.state in ("draft", "submitted", "returned"))
    assert client.get("/").status_code == 200
    assert client.get(f"/publications/{published.id}").status_code == 200
    assert client.get(f"/publications/{withdrawn.id}").status_code == 410
    assert client.get(f"/publications/{draft.id}").status_code == 404
    app.extensions["hylla.db"].engine.dispose()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    titles = []
    for name in ("a", "b"):
        app = make_app(f"sqlite:///{tmp_path / name}.sqlite3", tmp_path / name)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
        assert runner.invoke(args=["demo", "load", "--records", "50", "--no-files"]).exit_code == 0
        with app.app_context():
            titles.append([(p.id, p.main_title, p.publication_type, len(p.contributors))
                           for p in session.scalars(select(Publication).order_by(Publication.id))])
    assert titles[0] == titles[1]
