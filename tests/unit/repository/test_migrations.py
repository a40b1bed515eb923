"""Migrations produce exactly the models' schema, and run down and up again, on every backend."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from repository import migrate
from repository.db import make_engine
from repository.models import Base
from tests.conftest import backends


@pytest.mark.parametrize("fresh_database_url", backends(), indirect=True)
def test_migrations_match_models_and_reverse(fresh_database_url: str) -> None:
    migrate.upgrade(fresh_database_url)
    migrate.check(fresh_database_url)  # raises if autogenerate would write anything

    engine = make_engine(fresh_database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        migrate.downgrade(fresh_database_url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(fresh_database_url)
        migrate.check(fresh_database_url)
    finally:
        engine.dispose()
