"""Bulk import speed: ``feedsvc import`` against a plain bulk INSERT baseline, same run.

    python benchmarks/import_articles.py [--lines 10000] [--postgres URL]

Writes a JSONL file with 1% bad lines, imports it into a fresh SQLite database (and
PostgreSQL when a URL is given or FEEDSVC_TEST_DATABASE_URL is set), and reports
articles/s for the import and for the baseline: the same rows written by one
SQLAlchemy Core ``insert()`` with no validation, sanitizing or upsert logic.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from feedsvc.bulk import import_articles
from feedsvc.db import Database
from feedsvc.db.migrate import upgrade
from feedsvc.db.tables import ArticleRow, Base, SectionNameRow, SectionRow

SECTIONS = ["news", "news/world", "news/local", "business"]
WORDS = (
    "district port bridge investment culture festival university hospital research "
    "manufacturing policy residents transport energy"
).split()


def article(n: int, rng: random.Random) -> dict[str, object]:
    words = " ".join(rng.choice(WORDS) for _ in range(40))
    return {
        "external_id": f"bench-{n}",
        "section": rng.choice(SECTIONS[1:]),
        "title": f"Story {n}: {' '.join(rng.choice(WORDS) for _ in range(6))}",
        "summary": words[:150],
        "body_html": "".join(
            f"<p>{words} <a href='https://example.org/{n}'>link</a>.</p>" for _ in range(4)
        ),
        "author": "Bench Writer",
        "published_at": (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n)).isoformat(),
        "source_name": "Bench Daily",
        "source_url": f"https://bench.example.org/{n}",
        "tags": [rng.choice(WORDS)],
    }


def write_file(path: Path, lines: int) -> int:
    rng = random.Random(7)
    bad = 0
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            if n % 100 == 50:  # 1% bad lines, of three kinds
                bad += 1
                kind = (n // 100) % 3
                out.write(
                    [
                        "{broken",
                        json.dumps({"external_id": f"x{n}"}),
                        json.dumps(article(n, rng) | {"section": "nowhere"}),
                    ][kind]
                    + "\n"
                )
            else:
                out.write(json.dumps(article(n, rng)) + "\n")
    return bad


def fresh_database(url: str) -> Database:
    database = Database(url)
    if database.engine.dialect.name == "postgresql":
        with database.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(database.engine)
    with database.session() as session:
        now = datetime.now(UTC)
        for path in SECTIONS:
            parent = session.query(SectionRow).filter_by(path=path.rpartition("/")[0]).first()
            session.add(
                SectionRow(
                    path=path,
                    parent_id=parent.id if parent else None,
                    created_at=now,
                    updated_at=now,
                    names=[SectionNameRow(lang="en", name=path)],
                )
            )
            session.flush()
    return database


def baseline(database: Database, path: Path) -> float:
    """Rows straight into the table: the floor any import is measured against."""
    with database.session() as session:
        sections = {row.path: row.id for row in session.query(SectionRow)}
    rows = []
    now = datetime.now(UTC)
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            doc = json.loads(line)
        except json.JSONDecodeError:
            continue
        if doc.get("section") not in sections:
            continue
        rows.append(
            {
                "external_id": f"base-{uuid.uuid4().hex}",
                "section_id": sections[doc["section"]],
                "slug": f"base-{uuid.uuid4().hex}",
                "title": doc["title"],
                "summary": doc["summary"],
                "body_html": doc["body_html"],
                "author": doc["author"],
                "published_at": datetime.fromisoformat(doc["published_at"]),
                "source_name": doc["source_name"],
                "source_url": doc["source_url"],
                "image_url": None,
                "tags": doc["tags"],
                "revision": 1,
                "created_at": now,
                "updated_at": now,
                "deleted_at": None,
            }
        )
    started = time.perf_counter()
    with database.session() as session:
        for start in range(0, len(rows), 500):
            session.execute(insert(ArticleRow), rows[start : start + 500])
    return len(rows) / (time.perf_counter() - started)


def run(url: str, path: Path, bad: int, lines: int) -> dict[str, object]:
    database = fresh_database(url)
    started = time.perf_counter()
    with path.open(encoding="utf-8") as file:
        report = import_articles(database, file)
    elapsed = time.perf_counter() - started
    assert len(report.rejected) == bad, report.rejected[:5]
    assert report.created == lines - bad
    import_rate = report.created / elapsed
    base_rate = baseline(database, path)
    database.engine.dispose()
    return {
        "backend": database.engine.dialect.name,
        "lines": lines,
        "rejected": bad,
        "seconds": round(elapsed, 2),
        "import_articles_per_s": round(import_rate),
        "baseline_articles_per_s": round(base_rate),
        "import_to_baseline": round(import_rate / base_rate, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("FEEDSVC_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "articles.jsonl"
        bad = write_file(path, args.lines)
        urls = [f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"]
        if args.postgres:
            schema = f"feedsvc_bench_{uuid.uuid4().hex[:8]}"
            urls.append(
                make_url(args.postgres)
                .update_query_dict({"options": f"-csearch_path={schema}"})
                .render_as_string(hide_password=False)
            )
            with Database(args.postgres).engine.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            for url in urls:
                print(json.dumps(run(url, path, bad, args.lines)))
        finally:
            if args.postgres:
                with Database(args.postgres).engine.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
