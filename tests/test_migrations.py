"""Alembic: the migrations build exactly the schema the code declares, and go back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from feedsvc.db import make_engine
from feedsvc.db.migrate import downgrade, upgrade
from feedsvc.db.tables import Base


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    engine = make_engine(database_url)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert {"articles", "sections", "api_tokens"} <= set(inspect(engine).get_table_names())
    engine.dispose()
