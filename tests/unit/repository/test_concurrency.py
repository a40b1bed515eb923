"""Two editors saving the same record at the same time: the second save fails, nothing is lost."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from repository import create_app, migrate
from repository.db import database
from repository.errors import Conflict
from repository.models import Publication
from repository.services import records
from tests import factories
from tests.conftest import backends


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_racing_saves_on_separate_connections(fresh_database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    migrate.upgrade(fresh_database_url)
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "x"})
    with app.app_context():
        inst = factories.institution()
        submitter = factories.user("submitter", inst)
        pub_id = records.create_publication(submitter, factories.article()).id
        engine = database().engine
    maker = sessionmaker(bind=engine, expire_on_commit=False)
    one: Session = maker()
    two: Session = maker()
    try:
        a = one.get(Publication, pub_id)
        b = two.get(Publication, pub_id)
        assert a.version == b.version == 1
        a.extent = "12 pages"
        one.commit()  # first save wins
        b.extent = "99 pages"
        # PostgreSQL: UPDATE ... WHERE version = 1 finds no row. SQLite refuses the stale
        # snapshot's write outright ("database is locked", SQLITE_BUSY_SNAPSHOT).
        with pytest.raises((StaleDataError, OperationalError)):
            two.commit()
        two.rollback()
    finally:
        one.close()
        two.close()

    with app.app_context():
        # the service turns the same race into a Conflict for the person saving second
        with pytest.raises(Conflict):
            records.update_publication(submitter, pub_id, factories.article(extent="5 pages"), expected_version=1)
        assert records.get_publication(submitter, pub_id).extent == "12 pages"
    engine.dispose()
