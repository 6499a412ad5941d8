"""`feedsvc export --include-deleted | feedsvc import`: same articles, same tombstones."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from feedsvc.db import database, make_engine
from feedsvc.db.migrate import upgrade
from feedsvc.store import ArticleFilter, Store
from tests.conftest import Api, article_doc, migrated_schema, running_app
from tests.test_cli import run


@pytest.fixture
def other_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty, migrated database on the same backend: where an export goes."""
    if not database_url.startswith("sqlite"):
        with migrated_schema(database_url) as url:
            yield url
        return
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url


@pytest.fixture
def other_app(other_database_url: str) -> Iterator[Flask]:
    with running_app(other_database_url) as app:
        yield app


def import_file(app: Flask, path: Path) -> str:
    result = run(app, "import", str(path))
    assert result.exit_code == 0, result.output
    return result.output


def export(app: Flask, path: Path) -> list[str]:
    result = run(app, "export", "--include-deleted", "--output", str(path))
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8").splitlines()


def copy_sections(source: Flask, target: Flask) -> None:
    """Exports hold articles only: the destination needs the same sections first."""
    with source.app_context(), database().session() as session:
        sections = sorted(Store(session).sections.all(), key=lambda s: s.path)
    with target.app_context(), database().session() as session:
        store = Store(session)
        for section in sections:  # parents sort before their children
            store.sections.add(section.path, section.names, section.created_at)


def revisions(app: Flask) -> dict[str, tuple[int, str | None]]:
    with app.app_context(), database().session() as session:
        return {
            a.external_id: (a.revision, a.deleted_at.isoformat() if a.deleted_at else None)
            for a in Store(session).articles.all()
        }


def make_articles(editor: Api) -> None:
    """Five articles, two of them deleted through the API, one of those revised first."""
    created = {}
    for n in range(5):
        response = editor.post(
            "/articles",
            article_doc(
                external_id=f"rt-{n}",
                title=f"Story {n} & more",
                body_html=f"<p>Body {n} 广州 <a href='https://example.com/{n}'>link</a></p>",
                summary=None if n == 3 else f"Summary {n}",
                image_url=f"https://img.example.com/{n}.jpg" if n % 2 else None,
                tags=[f"t{n}", "shared"],
            ),
        )
        assert response.status_code == 201, response.json
        created[n] = response
    revised = editor.patch(
        f"/articles/{created[1].json['id']}",
        {"title": "Story 1, revised", "section": "sport"},
        headers={"If-Match": created[1].headers["ETag"]},
    )
    assert revised.status_code == 200, revised.json
    for n, etag in ((1, revised.headers["ETag"]), (3, created[3].headers["ETag"])):
        deleted = editor.delete(f"/articles/{created[n].json['id']}", headers={"If-Match": etag})
        assert deleted.status_code == 204


def test_duplicate_external_id_in_one_batch_updates_the_first(
    app: Flask, editor: Api, sections: list[str], tmp_path: Path
) -> None:
    lines = [
        article_doc(external_id="dup", slug="dup-story", title="First", tags=["a"]),
        article_doc(external_id="dup", slug="dup-story", title="Second", tags=["b"]),
        article_doc(external_id="dup", slug="dup-story", title="Second", tags=["b"]),
    ]
    path = tmp_path / "dup.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    output = import_file(app, path)
    assert "created 1, updated 1, unchanged 1, rejected 0" in output
    listing = editor.get("/articles").json
    assert listing["total"] == 1
    (article,) = listing["items"]
    assert (article["external_id"], article["slug"]) == ("dup", "dup-story")
    assert (article["title"], article["tags"], article["revision"]) == ("Second", ["b"], 2)


def test_export_with_tombstones_imports_into_an_empty_store_as_it_was(
    app: Flask, editor: Api, sections: list[str], other_app: Flask, tmp_path: Path
) -> None:
    make_articles(editor)
    exported = export(app, tmp_path / "export.jsonl")
    tombstones = [json.loads(line) for line in exported if "deleted_at" in json.loads(line)]
    assert [t["external_id"] for t in tombstones] == ["rt-1", "rt-3"]
    assert tombstones[0]["section"] == "sport", "the tombstone keeps the last revision"

    copy_sections(app, other_app)
    output = import_file(other_app, tmp_path / "export.jsonl")
    assert "created 5, updated 0, unchanged 0, rejected 0" in output

    assert export(other_app, tmp_path / "again.jsonl") == exported
    with other_app.app_context(), database().session() as session:
        live = Store(session).articles.page(ArticleFilter(), 1, 100)
    assert sorted(a.external_id for a in live.items) == ["rt-0", "rt-2", "rt-4"]
    assert {key: deleted for key, (_, deleted) in revisions(other_app).items()} == {
        key: deleted for key, (_, deleted) in revisions(app).items()
    }


def test_reimporting_an_export_changes_nothing(
    app: Flask, editor: Api, sections: list[str], other_app: Flask, tmp_path: Path
) -> None:
    make_articles(editor)
    path = tmp_path / "export.jsonl"
    exported = export(app, path)
    before = revisions(app)

    assert "created 0, updated 0, unchanged 5, rejected 0" in import_file(app, path)
    assert revisions(app) == before

    copy_sections(app, other_app)
    import_file(other_app, path)
    imported = revisions(other_app)
    assert "created 0, updated 0, unchanged 5, rejected 0" in import_file(other_app, path)
    assert revisions(other_app) == imported
    assert export(other_app, tmp_path / "again.jsonl") == exported


def test_a_tombstone_line_deletes_a_live_article_at_its_time(
    app: Flask, editor: Api, sections: list[str], tmp_path: Path
) -> None:
    created = editor.post("/articles", article_doc(external_id="live")).json
    tombstone = article_doc(external_id="live", deleted_at="2026-03-01T12:00:00+08:00")
    path = tmp_path / "tombstone.jsonl"
    path.write_text(json.dumps(tombstone) + "\n")

    assert "created 0, updated 1, unchanged 0, rejected 0" in import_file(app, path)
    assert editor.get(f"/articles/{created['id']}").status_code == 410
    assert revisions(app) == {"live": (2, "2026-03-01T04:00:00+00:00")}
    assert "created 0, updated 0, unchanged 1, rejected 0" in import_file(app, path)


def test_a_bad_deleted_at_rejects_the_line_and_the_api_still_refuses_it(
    app: Flask, editor: Api, sections: list[str], tmp_path: Path
) -> None:
    lines = [
        article_doc(external_id="naive", deleted_at="2026-03-01T12:00:00"),
        article_doc(external_id="number", deleted_at=1772337600),
        article_doc(external_id="both", deleted_at="soon", title=""),
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    result = run(app, "import", str(path))
    assert result.exit_code == 1
    assert "created 0, updated 0, unchanged 0, rejected 3" in result.output
    assert "line 1: rejected: /deleted_at: must include a UTC offset" in result.output
    assert "line 2: rejected: /deleted_at: must be an RFC 3339 date-time" in result.output
    assert "line 3: rejected: /deleted_at: must be an RFC 3339 date-time" in result.output
    assert "; /title: " in result.output, "the line's other errors come along"
    assert revisions(app) == {}

    response = editor.post(
        "/articles", article_doc(external_id="api", deleted_at="2026-03-01T12:00:00Z")
    )
    assert response.status_code == 422
    assert response.json["errors"] == [{"pointer": "/deleted_at", "detail": "unknown field"}]
