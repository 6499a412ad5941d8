"""Demo content written for this project: sections, English articles, human translations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..articles import Editor
from ..config import SOURCE_LANGUAGE
from ..db import Database
from ..domain import Article, Variant, VariantOrigin, VariantStatus
from ..sanitize import clean_html, clean_text
from ..schemas import ArticleIn, SectionIn, SectionPatch, parse_document
from ..store import Store
from ..store.memory import source_hash
from ..translation import aligned_target, cut

CONTENT = Path(__file__).with_name("content.json")


@dataclass(frozen=True)
class DemoReport:
    sections: int
    articles: int
    translations: int
    memory_entries: int
    jobs: tuple[int, ...]


def demo_content() -> dict[str, Any]:
    content: dict[str, Any] = json.loads(CONTENT.read_text(encoding="utf-8"))
    return content


def seed_memory(store: Store, article: Article, lang: str, text: dict[str, str]) -> int:
    """Align a human translation with its English source, segment by segment, and put
    each pair into the translation memory; returns how many pairs were stored."""
    source = cut(article.title, article.summary, article.body_html)
    translation = cut(text["title"], text.get("summary"), clean_html(text["body_html"]))
    by_key = {segment.key: segment for segment in translation.segments}
    stored = 0
    for segment in source.segments:
        counterpart = by_key.get(segment.key)
        target = aligned_target(segment, counterpart) if counterpart else None
        if target:
            store.memory.remember(
                SOURCE_LANGUAGE,
                lang,
                source_hash(segment.source),
                segment.source,
                target,
                article.updated_at,
            )
            stored += 1
    return stored


def load_demo(database: Database, targets: Sequence[str] = ()) -> DemoReport:
    """Load (or refresh) the demo; running it twice changes nothing the second time."""
    content = demo_content()
    translations = remembered = 0
    queued: list[int] = []
    with database.session() as session:
        store = Store(session)
        editor = Editor(store, targets)
        for item in content["sections"]:
            if store.sections.exists(item["path"]):
                editor.update_section(
                    item["path"], parse_document(SectionPatch, {"names": item["names"]})
                )
            else:
                editor.create_section(parse_document(SectionIn, item))
        for item in content["articles"]:
            fields = {k: v for k, v in item.items() if k != "translations"}
            saved = editor.upsert(parse_document(ArticleIn, fields))
            queued += saved.jobs
            article = saved.article
            for lang, text in item.get("translations", {}).items():
                remembered += seed_memory(store, article, lang, text)
                store.variants.save(
                    Variant(
                        article_id=article.id,
                        lang=lang,
                        title=clean_text(text["title"]),
                        summary=clean_text(text["summary"]) if text.get("summary") else None,
                        body_html=clean_html(text["body_html"]),
                        origin=VariantOrigin.HUMAN,
                        status=VariantStatus.REVIEWED,
                        source_revision=article.revision,
                        updated_at=article.updated_at,
                    ),
                    article.section_path,
                )
                translations += 1
    return DemoReport(
        len(content["sections"]), len(content["articles"]), translations, remembered, tuple(queued)
    )
