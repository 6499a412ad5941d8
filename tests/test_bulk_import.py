"""`feedsvc import` of 10,000 lines with 1% bad ones: finishes, reports them, stores the rest;
and the translation jobs an import queues."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask

from feedsvc import bulk
from feedsvc.db import database
from feedsvc.domain import JobStatus
from feedsvc.store import Store
from tests.conftest import Api, article_doc

LINES = 10_000


@pytest.mark.slow
def test_ten_thousand_lines_with_one_percent_bad(
    app: Flask, editor: Api, sections: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "bulk.jsonl"
    bad_lines = []
    with path.open("w", encoding="utf-8") as out:
        for n in range(1, LINES + 1):
            if n % 100 == 0:
                bad_lines.append(n)
                line = (
                    "{oops"
                    if n % 200
                    else json.dumps(article_doc(external_id=f"b-{n}", published_at="soon"))
                )
            else:
                line = json.dumps(article_doc(external_id=f"b-{n}", title=f"Bulk story {n}"))
            out.write(line + "\n")

    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 1, result.output
    assert (
        f"created {LINES - len(bad_lines)}, updated 0, unchanged 0, rejected 100" in result.output
    )
    reported = [
        int(line.split(":")[0].removeprefix("line "))
        for line in result.output.splitlines()
        if line.startswith("line ")
    ]
    assert reported == bad_lines
    assert editor.get("/articles?per_page=1").json["total"] == LINES - len(bad_lines)
    slugs = {a["slug"] for a in editor.get("/articles?per_page=100").json["items"]}
    assert len(slugs) == 100, "every article got its own slug"


def test_jobs_one_per_new_revision_and_language_dispatched_per_batch(
    app: Flask, sections: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jobs go in with one INSERT per batch: the same jobs as one at a time, none for a
    rejected or unchanged line, each batch's ids dispatched after it commits."""
    monkeypatch.setattr(bulk, "BATCH", 2)
    lines = [
        json.dumps(article_doc(external_id="j-1", title="First")),
        "{oops",
        json.dumps(article_doc(external_id="j-2", title="Second")),
        json.dumps(article_doc(external_id="j-1", title="First, corrected")),
        json.dumps(article_doc(external_id="j-2", title="Second")),  # unchanged
        json.dumps(article_doc(external_id="j-3", section="nowhere")),
    ]
    batches: list[list[int]] = []
    with app.app_context():
        targets = app.extensions["feedsvc.settings"].target_tags
        assert len(targets) == 2
        report = bulk.import_articles(
            database(), lines, targets, lambda ids: batches.append(list(ids))
        )
        again = bulk.import_articles(
            database(), lines[3:5], targets, lambda ids: batches.append(list(ids))
        )
        with database().session() as session:
            store = Store(session)
            jobs = store.jobs.all()
            ids = {
                external_id: article.id
                for external_id, article in store.articles.by_external_ids(["j-1", "j-2"]).items()
            }
    assert (report.created, report.updated, report.unchanged, len(report.rejected)) == (2, 1, 1, 2)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    expected = [(ids["j-1"], lang, revision) for revision in (1, 2) for lang in targets]
    expected += [(ids["j-2"], lang, 1) for lang in targets]
    assert sorted((job.article_id, job.lang, job.revision) for job in jobs) == sorted(expected)
    assert {job.status for job in jobs} == {JobStatus.QUEUED}
    # Batches of two lines: (j-1, oops), (j-2, j-1 again), (j-2, j-3), then the re-import
    # of the latest lines, which changes nothing and queues nothing.
    by_id = {job.id: (job.article_id, job.revision) for job in jobs}
    assert [sorted(by_id[i] for i in batch) for batch in batches[:3]] == [
        [(ids["j-1"], 1)] * 2,
        sorted([(ids["j-2"], 1)] * 2 + [(ids["j-1"], 2)] * 2),
        [],
    ]
    assert batches[3:] == [[]]
