"""The article's field list in domain.py is the one list: every place that spells the
fields out (the dataclass, the table, the API schemas) must agree with it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from feedsvc.db.tables import ArticleRow
from feedsvc.domain import ARTICLE_FIELDS, ARTICLE_RECORD_FIELDS, Article
from feedsvc.schemas import ArticleIn, ArticleOut, ArticlePatch


def _as(names: tuple[str, ...], section: str) -> set[str]:
    return {section if name == "section" else name for name in names}


def test_domain_article_is_the_list() -> None:
    names = {field.name for field in dataclasses.fields(Article)}
    assert names == _as(ARTICLE_FIELDS, "section_path") | set(ARTICLE_RECORD_FIELDS)


def test_article_table_is_the_list() -> None:
    columns = set(ArticleRow.__table__.columns.keys())
    assert columns == _as(ARTICLE_FIELDS, "section_id") | set(ARTICLE_RECORD_FIELDS)


def test_api_schemas_are_the_list() -> None:
    assert set(ArticlePatch.model_fields) == set(ARTICLE_FIELDS)
    assert set(ArticleIn.model_fields) == set(ARTICLE_FIELDS) | {"external_id"}
    # What readers of the API see: the feed-only times stay inside.
    shown = set(ARTICLE_RECORD_FIELDS) - {"revised_at", "shared_revised_at"}
    assert set(ArticleOut.model_fields) == set(ARTICLE_FIELDS) | shown | {"translations"}


def test_document_follows_the_list() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    article = Article(
        id=1,
        external_id="x-1",
        section_path="world/asia",
        slug="a-title",
        title="A title",
        summary=None,
        body_html="<p>Text.</p>",
        author="Li",
        published_at=now,
        source_name=None,
        source_url=None,
        image_url=None,
        tags=("a", "b"),
        revision=1,
        created_at=now,
        updated_at=now,
    )
    document = article.document()
    assert tuple(document) == ARTICLE_FIELDS
    assert document["section"] == "world/asia"
    assert document["tags"] == ["a", "b"]
    assert ArticleIn.model_validate(document).section == "world/asia"
