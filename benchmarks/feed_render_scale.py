"""Feed render cost against store size: a cache-miss render of a 50-entry page at a small
and a large store, on SQLite and PostgreSQL, beside the plainest baseline of the same run.

    python benchmarks/feed_render_scale.py [--small 1000] [--large 100000] [--postgres URL]
    python benchmarks/feed_render_scale.py --smoke      # CI: 1,000 and 10,000 articles

A miss is everything a request for an uncached feed does after routing: the page's query
(feed_entries range, counter, article and variant rows), the feed model, and the Atom
bytes. The baseline is "SQLite fetch + feedgen": the newest 50 rows of an indexed plain
table of the same articles read with sqlite3, made into Atom by feedgen alone.

Ratios: large/small for each database (goal ≤ 1.2) and small SQLite / baseline (goal ≤ 2).
PostgreSQL is measured when --postgres or FEEDSVC_TEST_DATABASE_URL names a server; it
runs in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from feedgen.feed import FeedGenerator
from flask import Flask
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from feedsvc import create_app
from feedsvc.db import database
from feedsvc.db.migrate import upgrade
from feedsvc.db.tables import ArticleRow, SectionRow, VariantRow
from feedsvc.demo import load_demo
from feedsvc.feeds.data import FeedBuilder, FeedRequest
from feedsvc.feeds.render import RENDERERS
from feedsvc.store import Store

PER_PAGE = 50
WORDS = (
    "district port bridge investment culture festival university hospital research "
    "manufacturing policy residents transport energy"
).split()
START = datetime(2020, 1, 1, tzinfo=UTC)


def article_fields(n: int, rng: random.Random) -> dict[str, Any]:
    words = " ".join(rng.choice(WORDS) for _ in range(40))
    return {
        "external_id": f"scale-{n}",
        "slug": f"scale-{n}",
        "title": f"Story {n}: {' '.join(rng.choice(WORDS) for _ in range(6))}",
        "summary": words[:150],
        "body_html": "".join(
            f'<p>{words} <a href="https://example.org/{n}">link</a>.</p>' for _ in range(4)
        ),
        "author": "Scale Writer",
        "published_at": START + timedelta(minutes=n),
        "source_name": "Scale Daily",
        "source_url": f"https://scale.example.org/{n}",
        "image_url": None,
        "tags": [rng.choice(WORDS)],
    }


def fill(app: Flask, articles: int) -> None:
    """The demo's sections and ``articles`` articles spread over them, a third with a
    reviewed zh-Hans variant, written in bulk; feed entries made by the store's own code."""
    rng = random.Random(11)
    with app.app_context():
        upgrade(database().engine)
        load_demo(database())
        with database().session() as session:
            sections = list(session.execute(select(SectionRow.id)).scalars())
        now = datetime(2026, 12, 1, tzinfo=UTC)
        for start in range(0, articles, 2000):
            with database().session() as session:
                batch = [
                    article_fields(n, rng)
                    | {
                        "section_id": rng.choice(sections),
                        "revision": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(start, min(articles, start + 2000))
                ]
                ids = session.scalars(
                    insert(ArticleRow).returning(ArticleRow.id, sort_by_parameter_order=True),
                    batch,
                ).all()
                variants = [
                    {
                        "article_id": article_id,
                        "lang": "zh-Hans",
                        "title": f"新闻 {article_id}",
                        "summary": "摘要。",
                        "body_html": "<p>正文。</p>" * 4,
                        "origin": "machine",
                        "status": "reviewed",
                        "source_revision": 1,
                        "engine": "bench",
                        "created_at": now,
                        "updated_at": now,
                        "shown_at": now,
                    }
                    for article_id in ids
                    if article_id % 3 == 0
                ]
                if variants:
                    session.execute(insert(VariantRow), variants)
                Store(session).feeds.refresh_entries(ids)


def miss_time(app: Flask, lang: str, section: str | None, rounds: int) -> float:
    """Median seconds of a cache-miss render of page 1 (50 entries), Atom."""
    settings = app.extensions["feedsvc.settings"]
    language = settings.language(lang)
    times = []
    with app.test_request_context():
        for _ in range(rounds):
            with database().sessions() as session:
                started = time.perf_counter()
                feed = FeedBuilder(Store(session), settings).feed(
                    FeedRequest(language, section, "atom", 1, PER_PAGE, "http://bench/feed")
                )
                body = RENDERERS["atom"](feed)
                times.append(time.perf_counter() - started)
            assert len(feed.entries) == PER_PAGE and body
    return statistics.median(times)


def baseline_time(articles: int, rounds: int) -> float:
    """Median seconds for the newest 50 rows of a plain indexed SQLite table, made into
    Atom by feedgen: what any Python service pays at least."""
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        connection = sqlite3.connect(Path(tmp) / "plain.sqlite3")
        connection.execute(
            "CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, summary TEXT, "
            "body_html TEXT, author TEXT, published_at TEXT)"
        )
        connection.execute("CREATE INDEX ix_published ON articles (published_at, id)")
        rows = []
        for n in range(articles):
            fields = article_fields(n, rng)
            rows.append(
                (
                    fields["title"],
                    fields["summary"],
                    fields["body_html"],
                    fields["author"],
                    fields["published_at"].isoformat(),
                )
            )
        connection.executemany(
            "INSERT INTO articles (title, summary, body_html, author, published_at) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        connection.commit()
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            found = connection.execute(
                "SELECT id, title, summary, body_html, author, published_at FROM articles "
                "ORDER BY published_at DESC, id DESC LIMIT ?",
                (PER_PAGE,),
            ).fetchall()
            generator = FeedGenerator()
            generator.id("http://bench/feed")
            generator.title("Bench")
            generator.link(href="http://bench/feed", rel="self")
            generator.updated(datetime.fromisoformat(found[0][5]))
            for article_id, title, summary, body, author, published in found:
                entry = generator.add_entry(order="append")
                entry.id(f"http://bench/{article_id}")
                entry.title(title)
                entry.link(href=f"http://bench/{article_id}")
                entry.summary(summary)
                entry.content(body, type="html")
                entry.author(name=author)
                entry.published(datetime.fromisoformat(published))
                entry.updated(datetime.fromisoformat(published))
            assert generator.atom_str()
            times.append(time.perf_counter() - started)
        connection.close()
    return statistics.median(times)


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'scale.sqlite3'}"


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A fresh schema on the server at ``url``, dropped afterwards."""
    base = make_url(url)
    conninfo = base.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    schema = f"feedsvc_scale_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def measure(
    store_url: Callable[[], Any], sizes: tuple[int, int], rounds: int
) -> dict[str, dict[str, float]]:
    """Miss times (ms) per size for the site feed in English and a section in Chinese.

    Both stores are filled and analyzed first (as autovacuum would), then measured in
    alternation, one miss of each per round: what the machine does meanwhile (a
    checkpoint after the big fill, another process) falls on both sizes alike."""
    with ExitStack() as stack:
        apps, filled = {}, {}
        for size in sizes:
            url = stack.enter_context(store_url())
            app = create_app(
                {
                    "FEEDSVC_DATABASE_URL": url,
                    "FEEDSVC_SECRET_KEY": "benchmark-secret-key-0123",
                    "FEEDSVC_WORKER": "none",
                    "FEEDSVC_LANGUAGES": "en,zh-Hans:reviewed",
                }
            )
            started = time.perf_counter()
            fill(app, size)
            filled[size] = time.perf_counter() - started
            with app.app_context(), database().engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
            apps[size] = app
        times: dict[int, dict[str, list[float]]] = {
            size: {"en_site_ms": [], "zh_section_ms": []} for size in sizes
        }
        for _ in range(rounds):
            for size, app in apps.items():
                with app.app_context():
                    times[size]["en_site_ms"].append(miss_time(app, "en", None, 1))
                    times[size]["zh_section_ms"].append(miss_time(app, "zh-Hans", "news", 1))
        for app in apps.values():
            with app.app_context():
                database().engine.dispose()
    return {
        str(size): {"fill_s": round(filled[size], 1)}
        | {feed: statistics.median(values) * 1000 for feed, values in times[size].items()}
        for size in sizes
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", default=os.environ.get("FEEDSVC_TEST_DATABASE_URL"))
    parser.add_argument("--smoke", action="store_true", help="1,000 and 10,000 articles")
    args = parser.parse_args()
    if args.smoke:
        args.large, args.rounds = 10_000, 15
    sizes = (args.small, args.large)
    baseline_ms = baseline_time(args.small, args.rounds) * 1000
    report: dict[str, Any] = {"per_page": PER_PAGE, "baseline_fetch_feedgen_ms": baseline_ms}
    databases: dict[str, Callable[[], Any]] = {"sqlite": sqlite_url}
    if args.postgres:
        databases["postgresql"] = lambda: postgres_schema(args.postgres)
    failed = False
    for name, store_url in databases.items():
        figures = measure(store_url, sizes, args.rounds)
        small, large = figures[str(sizes[0])], figures[str(sizes[1])]
        ratios = {
            feed: round(large[feed] / small[feed], 2) for feed in ("en_site_ms", "zh_section_ms")
        }
        report[name] = {
            "ms": {
                size: {k: round(v, 2) for k, v in values.items()}
                for size, values in figures.items()
            },
            "large_over_small": ratios,
            "small_over_baseline": round(small["en_site_ms"] / baseline_ms, 2),
        }
        failed |= any(ratio > 1.2 for ratio in ratios.values())
    report["baseline_fetch_feedgen_ms"] = round(baseline_ms, 2)
    print(json.dumps(report, indent=2))
    return 0 if not failed or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
