"""SQL statements per request for the review editor and the PO/XLIFF export: a small bound
that does not grow with the number of segments or articles (no query per row)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from feedsvc.db import database
from feedsvc.db.tables import MemoryRow
from feedsvc.domain import StoredSegment
from feedsvc.engine import Term, Translated, Translator
from feedsvc.jobs import jobs
from feedsvc.review import Suggestion, suggestions_for
from feedsvc.store import Store
from feedsvc.store.memory import normalized, source_hash
from tests.conftest import Api

MAX_STATEMENTS = 15
SLACK = 2  # what a bigger page may add at most: nothing per row
WORDS = (
    "harbour bridge museum railway library hospital stadium market river school tunnel "
    "garden airport station theatre factory"
).split()


class EchoTranslator:
    """A Translator that answers at once: the tests count queries, not model output."""

    @property
    def name(self) -> str:
        return "echo 1.0"

    def translate(self, sources: Sequence[str], terms: Sequence[Term] = ()) -> list[Translated]:
        return [Translated(f"译 {source}", 0.75) for source in sources]


def echo_engine(source_tag: str, target_tag: str) -> Translator:
    return EchoTranslator()


def sentence(article: int, n: int) -> str:
    """Distinct sentences of similar shape, so the memory has near matches for them."""
    first, second = WORDS[n % len(WORDS)], WORDS[(n // len(WORDS) + article) % len(WORDS)]
    return f"The {first} committee of ward {article} backed the {second} plan on Monday."


def body(article: int, sentences: int) -> str:
    """Paragraphs of up to four sentences: ``sentences`` body segments."""
    paragraphs = [
        " ".join(sentence(article, n) for n in range(start, min(start + 4, sentences)))
        for start in range(0, sentences, 4)
    ]
    return "".join(f"<p>{text}</p>" for text in paragraphs)


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block."""
    statements: list[str] = []

    def record(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        statements.append(statement)

    with app.app_context():
        engine = database().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def echo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """Jobs translate with the echo translator instead of an Argos package."""
    with app.app_context():
        engines = jobs().worker.engines
    monkeypatch.setattr(engines, "translator", echo_engine)
    return app


def add_articles(editor: Api, app: Flask, first: int, count: int, sentences: int) -> list[int]:
    """``count`` articles of ``sentences`` body sentences (title and summary are two more
    segments each), translated by running their jobs."""
    ids = []
    for number in range(first, first + count):
        response = editor.post(
            "/articles",
            {
                "section": "news",
                "title": f"Ward {number} plans",
                "summary": f"What ward {number} decided.",
                "body_html": body(number, sentences),
            },
        )
        assert response.status_code == 201, response.json
        ids.append(int(response.json["id"]))
    with app.app_context():
        assert jobs().worker.run_pending() >= count
    return ids


def seed_memory_and_glossary(app: Flask) -> None:
    """Near matches for the sentences, entries of other lengths, and a glossary term."""
    now = datetime(2026, 2, 19, tzinfo=UTC)
    with app.app_context(), database().session() as session:
        store = Store(session)
        for n in range(60):
            source = sentence(900 + n, n).replace("Monday", "Tuesday")
            store.memory.remember("en", "zh-Hans", source_hash(source), source, f"记忆 {n}", now)
        for n in range(40):
            source = f"Short line {n}." if n % 2 else "A much longer sentence " * (n % 7 + 3)
            store.memory.remember("en", "zh-Hans", source_hash(source), source, f"其他 {n}", now)
        store.glossary.add("en", "zh-Hans", "committee", "委员会", False, now)


def approve_some(translator: Api, article: int, keys: Sequence[str]) -> None:
    """Reviewed segments, so the editor has histories to show."""
    for key in keys:
        response = translator.patch(
            f"/articles/{article}/translations/zh-Hans/segments/{key}",
            {"status": "approved"},
            headers={"If-Match": "*"},
        )
        assert response.status_code == 200, response.json


def sign_in(client: FlaskClient, secret: str) -> None:
    page = client.get("/review/").data
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, "the sign-in form carries a CSRF token"
    response = client.post("/review/", data={"token": secret, "csrf_token": match.group(1)})
    assert response.status_code == 302


def editor_statements(app: Flask, client: FlaskClient, article: int) -> int:
    with counted(app) as statements:
        page = client.get(f"/review/zh-hans/articles/{article}")
    assert page.status_code == 200
    return len(statements)


@pytest.fixture
def news(editor: Api) -> None:
    assert editor.post("/sections", {"path": "news", "names": {"en": "News"}}).status_code == 201


def test_editor_page_queries_do_not_grow_with_segments(
    echo: Flask, client: FlaskClient, editor: Api, translator: Api, news: None
) -> None:
    app = echo
    seed_memory_and_glossary(app)
    small, large = add_articles(editor, app, 1, 1, 3) + add_articles(editor, app, 2, 1, 40)
    for article in (small, large):
        approve_some(translator, article, ["title", "body.0.0"])
    sign_in(client, str(translator.token))

    with app.app_context(), database().session() as session:
        assert len(Store(session).segments.of(small, "zh-Hans")) == 5
        assert len(Store(session).segments.of(large, "zh-Hans")) == 42

    page = client.get(f"/review/zh-hans/articles/{large}").data.decode()
    assert page.count('class="suggestion suggestion-memory"') > 0, "memory suggestions are shown"
    assert "委员会" in page and "History" in page

    few = editor_statements(app, client, small)
    many = editor_statements(app, client, large)
    print(f"editor statements: 5 segments {few}, 42 segments {many}")
    assert many <= MAX_STATEMENTS
    assert many <= few + SLACK


def full_scan(memory: Sequence[tuple[str, str]], segment: StoredSegment) -> list[Suggestion]:
    """The suggestions as one difflib comparison per memory entry finds them (the
    segment's own text for its own sentence aside)."""
    wanted = normalized(segment.source)
    scored = []
    for entry, target in memory:
        if normalized(entry) == wanted and target == segment.target:
            continue
        if int(len(wanted) * 0.6) <= len(entry) <= int(len(wanted) * 1.6):
            ratio = difflib.SequenceMatcher(None, wanted, normalized(entry)).ratio()
            if ratio >= 0.6:
                scored.append(Suggestion(entry, target, round(ratio * 100)))
    return sorted(scored, key=lambda s: -s.match)[:3]


def test_batched_suggestions_match_a_full_scan(
    echo: Flask, editor: Api, translator: Api, news: None
) -> None:
    """One candidate set and pre-filters per page, yet the same suggestions."""
    app = echo
    seed_memory_and_glossary(app)
    (article,) = add_articles(editor, app, 7, 1, 40)
    approve_some(translator, article, ["title", "body.0.0", "body.1.2"])
    with app.app_context(), database().session() as session:
        store = Store(session)
        memory = [
            (row.source, row.target)
            for row in session.scalars(
                select(MemoryRow)
                .where(MemoryRow.target_lang == "zh-Hans")
                .order_by(MemoryRow.updated_at.desc(), MemoryRow.id.desc())
            )
        ]
        segments = store.segments.of(article, "zh-Hans")
        found = suggestions_for(store, segments, "zh-Hans")
    assert [found[s.id] for s in segments] == [full_scan(memory, s) for s in segments]
    assert sum(1 for s in segments if found[s.id]) >= 40


@pytest.mark.parametrize("fmt", ["po", "xlf"])
def test_export_queries_do_not_grow_with_articles(
    echo: Flask, client: FlaskClient, editor: Api, translator: Api, news: None, fmt: str
) -> None:
    app = echo
    ids = add_articles(editor, app, 1, 10, 2)
    sign_in(client, str(translator.token))

    def exported(path: str) -> tuple[int, bytes]:
        with counted(app) as statements:
            response = client.get(path, headers=translator.headers())
        assert response.status_code == 200
        return len(statements), response.data

    api = f"/api/v1/exchange/zh-hans/export.{fmt}"
    screen = f"/review/zh-hans/export.{fmt}"
    few, data = exported(api)
    assert b"Ward 10 plans" in data
    few_screen, _ = exported(screen)
    ids += add_articles(editor, app, 11, 90, 2)
    many, data = exported(api)
    assert b"Ward 1 plans" in data and b"Ward 100 plans" in data
    many_screen, screen_data = exported(screen)
    assert screen_data == data
    one, data = exported(f"{api}?article={ids[-1]}")
    assert b"Ward 100 plans" in data and b"Ward 99 plans" not in data
    print(
        f"export {fmt} statements: API 10 articles {few}, 100 articles {many}, one {one}; "
        f"screen 10 articles {few_screen}, 100 articles {many_screen}"
    )
    assert many <= MAX_STATEMENTS and many_screen <= MAX_STATEMENTS and one <= MAX_STATEMENTS
    assert many <= few + SLACK and many_screen <= few_screen + SLACK
