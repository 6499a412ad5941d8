"""The materialized feed entries (what a feed page lists without scanning the store) stay
exactly what the articles and variants say, through every kind of write, and the
migration builds them from an existing store."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import Engine, text

from feedsvc.db import database, make_engine
from feedsvc.db.migrate import downgrade, upgrade
from feedsvc.demo import load_demo
from feedsvc.domain import Variant, VariantOrigin, VariantStatus
from feedsvc.store import ArticleFilter, Store
from tests.conftest import running_app

Entry = tuple[str, str, str, int]  # scope, lang, status, article id
LANGS = ("zh-Hans", "fr")
STATUSES = tuple(VariantStatus)


def expected_entries(engine: Engine) -> Counter[Entry]:
    """The entries from first principles: every live article under its section path and each
    ancestor ('' the site), in English, and in each language with a shown variant."""
    with engine.connect() as connection:
        articles = connection.execute(
            text(
                "SELECT a.id, s.path FROM articles a JOIN sections s ON s.id = a.section_id "
                "WHERE a.deleted_at IS NULL"
            )
        ).all()
        variants = connection.execute(
            text(
                "SELECT article_id, lang, status FROM article_variants "
                "WHERE status IN ('machine_translated', 'reviewed')"
            )
        ).all()
    shown: dict[int, list[tuple[str, str]]] = {}
    for article_id, lang, status in variants:
        shown.setdefault(article_id, []).append((lang, status))
    entries: Counter[Entry] = Counter()
    for article_id, path in articles:
        parts = path.split("/")
        for scope in ["", *("/".join(parts[:n]) for n in range(1, len(parts) + 1))]:
            for lang, status in [("en", "source"), *shown.get(article_id, [])]:
                entries[(scope, lang, status, article_id)] += 1
    return entries


def stored_entries(engine: Engine) -> tuple[Counter[Entry], Counter[tuple[str, str, str]]]:
    with engine.connect() as connection:
        entries = Counter(
            tuple(row)
            for row in connection.execute(
                text("SELECT scope, lang, status, article_id FROM feed_entries")
            )
        )
        counts = Counter(
            {
                (scope, lang, status): number
                for scope, lang, status, number in connection.execute(
                    text("SELECT scope, lang, status, entries FROM feed_entry_counts")
                )
                if number
            }
        )
    return entries, counts


def assert_consistent(engine: Engine) -> None:
    entries, counts = stored_entries(engine)
    assert entries == expected_entries(engine)
    assert counts == Counter((scope, lang, status) for scope, lang, status, _ in entries)


def test_entries_follow_every_kind_of_write(app: Flask) -> None:
    """A seeded random walk through publishing, editing, moving, deleting, reviving,
    translating, withdrawing and moving sections, checked after each step."""
    chance = random.Random(20261201)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with app.app_context():
        load_demo(database())
        engine = database().engine
        assert_consistent(engine)
        kinds = Counter[str]()
        for step in range(70):
            now += timedelta(minutes=1)
            with database().session() as session:
                store = Store(session)
                sections = [section.path for section in store.sections.all()]
                everything = store.articles.page(ArticleFilter(include_deleted=True), 1, 500).items
                article = chance.choice(everything)
                kind = chance.choice(
                    ["add", "edit", "move", "delete", "translate", "translate", "withdraw"]
                    + (["move-section"] if step % 10 == 9 else [])
                )
                kinds[kind] += 1
                if kind == "add":
                    store.articles.add(
                        f"walk-{step}",
                        chance.choice(sections),
                        {
                            "slug": f"walk-{step}",
                            "title": f"Walk {step}",
                            "body_html": "<p>Walk.</p>",
                            "published_at": now - timedelta(hours=chance.randrange(500)),
                            "tags": [],
                        },
                        now,
                    )
                elif kind in ("edit", "move"):  # an edit of a tombstone revives it
                    section = chance.choice(sections) if kind == "move" else article.section_path
                    fields = {"published_at": now - timedelta(hours=chance.randrange(500))}
                    store.articles.update(article.id, article.revision, section, fields, now)
                elif kind == "delete" and article.deleted_at is None:
                    store.articles.delete(article.id, article.revision, now)
                elif kind == "translate":
                    store.variants.save(
                        Variant(
                            article.id,
                            chance.choice(LANGS),
                            f"Walk {step}",
                            None,
                            "<p>Walk.</p>",
                            VariantOrigin.MACHINE,
                            chance.choice(STATUSES),
                            article.revision,
                            now,
                        ),
                        article.section_path,
                    )
                elif kind == "withdraw":
                    store.variants.withdraw(
                        article.id, chance.choice(LANGS), article.section_path, now
                    )
                elif kind == "move-section":
                    nested = [path for path in sections if "/" in path]
                    moving = chance.choice(nested)
                    parent = chance.choice([p for p in sections if "/" not in p])
                    store.sections.move(moving, f"{parent}/moved-{step}", now)
            assert_consistent(engine)
    assert set(kinds) >= {"add", "edit", "move", "delete", "translate", "withdraw"}


def test_a_feed_page_reads_the_entries(app: Flask) -> None:
    """Pages come from the entries: the newest first, pages that tile the scope, and a
    total that counts every entry once."""
    with app.app_context():
        load_demo(database())
        with database().session() as session:
            store = Store(session)
            expected = [
                article.id for article in store.articles.page(ArticleFilter("news"), 1, 100).items
            ]
            pages = [store.feeds.page("news", "en", None, n, 3) for n in (1, 2, 3, 4, 5)]
    assert pages[0].total == len(expected)
    listed = [article.id for page in pages for article, _ in page.items]
    assert listed == expected[: len(listed)]
    assert len(listed) == min(len(expected), 15)


def test_the_migration_builds_entries_from_an_existing_store(database_url: str) -> None:
    engine = make_engine(database_url)

    with running_app(database_url) as app, app.app_context():
        load_demo(database())
    built, _ = stored_entries(engine)
    assert len(built) > 0
    downgrade(engine, "0006")
    upgrade(engine)
    assert_consistent(engine)
    assert stored_entries(engine)[0] == built
    engine.dispose()


def test_two_writers_refreshing_one_article_wait_for_each_other(app: Flask) -> None:
    """An edit and a translation job of one article hold no common row lock on
    PostgreSQL: the second refresh of its entries must wait for the first and see its
    rows, not collide with them (IntegrityError) or count them twice."""
    with app.app_context():
        load_demo(database())
        db = database()
        with db.session() as session:
            article = Store(session).articles.page(ArticleFilter("news"), 1, 1).items[0]
        errors: list[Exception] = []

        def second_writer() -> None:
            try:
                with db.session() as session:
                    Store(session).feeds.refresh_entries([article.id])
            except Exception as exc:  # what the test looks for
                errors.append(exc)

        with db.writer_sessions() as first, first.begin():
            Store(first).feeds.refresh_entries([article.id])
            thread = threading.Thread(target=second_writer)
            thread.start()
            time.sleep(0.5)  # the second writer is now waiting on the first
        thread.join(30)
        assert errors == []
        assert_consistent(db.engine)
