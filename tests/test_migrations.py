"""Alembic: the migrations build exactly the schema the code declares, and go back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_stepping_down_and_up_keeps_the_rows_of_other_tables(database_url: str) -> None:
    """SQLite rebuilds a table to drop a column: with foreign keys on, dropping the old copy
    would cascade into every table that refers to it (segment history, jobs, variants)."""
    engine = make_engine(database_url)
    now = "2026-01-01 00:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sections (id, path, created_at, updated_at) "
                "VALUES (1, 'news', :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO articles (id, external_id, section_id, slug, title, body_html, "
                "published_at, tags, revision, created_at, updated_at) VALUES "
                "(1, 'a', 1, 'a', 'A', '<p>A</p>', :now, '[]', 1, :now, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO segments (id, article_id, lang, key, position, source, source_hash, "
                "placeholders, status, model_runs, updated_at) VALUES "
                "(1, 1, 'zh-Hans', 'title', 0, 'A', 'h', '{}', 'approved', 0, :now)"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO segment_history (segment_id, actor, action, before_status, "
                "after_status, at) VALUES (1, 'me', 'edit', 'pending', 'approved', :now)"
            ),
            {"now": now},
        )
    downgrade(engine, "0004")
    upgrade(engine)
    with engine.connect() as connection:
        counts = [
            connection.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("articles", "segments", "segment_history")
        ]
    engine.dispose()
    assert counts == [1, 1, 1]
