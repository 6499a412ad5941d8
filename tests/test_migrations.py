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


def test_numbers_return_to_the_text_of_stored_segments_and_memory(database_url: str) -> None:
    """0008: a segment cut when numbers were placeholders becomes what the segmenter cuts
    now, its human translation rewritten alike and still approved; its memory entry
    follows, and an article with an alt attribute is queued to gain that segment."""
    from feedsvc.segments import segment_html
    from feedsvc.store.memory import source_hash

    body = (
        '<p>It cost 3.2 billion yuan, said <a href="https://x.example/">Li</a>.</p>'
        '<p><img src="a.png" alt="A park"></p>'
    )
    old_source = "It cost {1} billion yuan, said {2}Li{/2}."
    old_target = "{2}李{/2}说，耗资{1}亿元。"
    placeholders = '{"1": "3.2", "2": "<a href=\\"https://x.example/\\">"}'
    engine = make_engine(database_url)
    downgrade(engine, "0007")
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
                "(1, 'a', 1, 'a', 'A', :body, :now, '[]', 2, :now, :now)"
            ),
            {"now": now, "body": body},
        )
        connection.execute(
            text(
                "INSERT INTO segments (id, article_id, lang, key, position, source, source_hash,"
                " placeholders, target, status, origin, model_runs, updated_at) VALUES "
                "(1, 1, 'zh-Hans', 'body.0.0', 1, :source, :hash, :placeholders, :target, "
                "'approved', 'human', 0, :now)"
            ),
            {
                "now": now,
                "source": old_source,
                "hash": source_hash(old_source),
                "placeholders": placeholders,
                "target": old_target,
            },
        )
        connection.execute(
            text(
                "INSERT INTO translation_memory (source_lang, target_lang, source_hash, source,"
                " target, uses, created_at, updated_at) VALUES "
                "('en', 'zh-Hans', :hash, :source, :target, 0, :now, :now)"
            ),
            {
                "now": now,
                "source": old_source,
                "hash": source_hash(old_source),
                "target": old_target,
            },
        )
        connection.execute(
            text(
                "INSERT INTO translation_jobs (article_id, lang, revision, status, attempts, "
                "run_after, created_at, finished_at) VALUES "
                "(1, 'zh-Hans', 2, 'done', 1, :now, :now, :now)"
            ),
            {"now": now},
        )
    upgrade(engine)
    now_cut = segment_html(body).segments[0]
    with engine.connect() as connection:
        segment = connection.execute(
            text("SELECT source, source_hash, target, status FROM segments WHERE id = 1")
        ).one()
        remembered = connection.execute(
            text("SELECT source, source_hash, target FROM translation_memory")
        ).one()
        job = connection.scalar(text("SELECT status FROM translation_jobs"))
    engine.dispose()
    assert now_cut.source == "It cost 3.2 billion yuan, said {1}Li{/1}."
    assert tuple(segment) == (
        now_cut.source,
        source_hash(now_cut.source),
        "{1}李{/1}说，耗资3.2亿元。",
        "approved",
    )
    assert tuple(remembered) == (now_cut.source, source_hash(now_cut.source), segment.target)
    assert job == "queued"
