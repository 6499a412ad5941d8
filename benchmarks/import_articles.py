"""Bulk import speed: ``feedsvc import`` against a plain bulk INSERT baseline, same run.

    python benchmarks/import_articles.py [--lines 10000] [--postgres URL]
        [--targets zh-Hans] [--jobs both|batched|single] [--rounds 1]

Writes a JSONL file with 1% bad lines, imports it into a fresh SQLite database (and
PostgreSQL when a URL is given or FEEDSVC_TEST_DATABASE_URL is set), and reports
articles/s for the import and for the baseline: the same rows written by one
SQLAlchemy Core ``insert()`` with no validation, sanitizing or upsert logic.

The import queues a translation job per article and ``--targets`` language, as
``feedsvc import`` does with the default languages. ``--jobs both`` imports twice per
backend and round, each time into a fresh database: with the jobs inserted one at a time
(``single``: the bulk import's editor told not to defer them) and with one multi-row
INSERT per batch (``batched``: what ``feedsvc import`` does), and prints the medians and
ratios of articles/s, SQL statements per article and CPU ms per article (the last two
move less with other load on the machine; on PostgreSQL the CPU is this process's only).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import make_url

from feedsvc import bulk
from feedsvc.articles import Editor
from feedsvc.db import Database
from feedsvc.db.migrate import upgrade
from feedsvc.db.tables import ArticleRow, Base, JobRow, SectionNameRow, SectionRow

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
    sqlite_file = make_url(url).database if url.startswith("sqlite") else None
    if sqlite_file:
        Path(sqlite_file).unlink(missing_ok=True)
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


class OneJobAtATime(Editor):
    """The import's editor as it was before batching: one INSERT per translation job."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs | {"defer_jobs": False})


def run(
    url: str, path: Path, bad: int, lines: int, targets: Sequence[str], jobs: str
) -> dict[str, object]:
    database = fresh_database(url)
    editor = OneJobAtATime if jobs == "single" else Editor
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(database.engine, "before_cursor_execute", count)
    started, cpu_started = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8") as file, mock.patch.object(bulk, "Editor", editor):
        report = bulk.import_articles(database, file, targets)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    event.remove(database.engine, "before_cursor_execute", count)
    assert len(report.rejected) == bad, report.rejected[:5]
    assert report.created == lines - bad
    with database.session() as session:
        queued = session.scalar(select(func.count(JobRow.id)))
    assert queued == report.created * len(targets), (queued, report.created)
    import_rate = report.created / elapsed
    base_rate = baseline(database, path)
    database.engine.dispose()
    return {
        "backend": database.engine.dialect.name,
        "jobs": jobs,
        "lines": lines,
        "rejected": bad,
        "jobs_queued": queued,
        "seconds": round(elapsed, 2),
        # Less noisy on a shared machine: SQL statements, and this process's CPU time
        # (on SQLite that includes the database's work), per stored article.
        "statements_per_article": round(statements / report.created, 2),
        "cpu_ms_per_article": round(cpu * 1000 / report.created, 2),
        "import_articles_per_s": round(import_rate),
        "baseline_articles_per_s": round(base_rate),
        "import_to_baseline": round(import_rate / base_rate, 3),
    }


def comparison(
    url: str, targets: Sequence[str], rounds: int, results: dict[str, list[dict[str, Any]]]
) -> dict[str, object]:
    """Batched against one-at-a-time job inserts: medians over the rounds."""

    def median(mode: str, figure: str) -> float:
        return float(statistics.median(result[figure] for result in results[mode]))

    summary: dict[str, object] = {
        "backend": make_url(url).get_backend_name(),
        "jobs_per_article": len(targets),
        "rounds": rounds,
    }
    for figure in ("import_articles_per_s", "statements_per_article", "cpu_ms_per_article"):
        single, batched = median("single", figure), median("batched", figure)
        summary[f"single_{figure}"] = single
        summary[f"batched_{figure}"] = batched
        summary[f"batched_to_single_{figure}"] = round(batched / single, 3) if single else None
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("FEEDSVC_TEST_DATABASE_URL"))
    parser.add_argument(
        "--targets", default="zh-Hans", help="comma-separated job languages ('' for none)"
    )
    parser.add_argument("--jobs", choices=["both", "batched", "single"], default="both")
    parser.add_argument("--rounds", type=int, default=1, help="imports per mode and backend")
    args = parser.parse_args()
    # A SIGTERM (CI timeout, kill) still drops the PostgreSQL schema.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    targets = [tag for tag in args.targets.split(",") if tag]
    modes = ["single", "batched"] if args.jobs == "both" else [args.jobs]
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
                results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
                for _ in range(args.rounds):
                    for mode in modes:  # alternated, so drift hits both alike
                        results[mode].append(run(url, path, bad, args.lines, targets, mode))
                        print(json.dumps(results[mode][-1]), flush=True)
                if len(modes) == 2:
                    print(json.dumps(comparison(url, targets, args.rounds, results)))
        finally:
            if args.postgres:
                with Database(args.postgres).engine.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
