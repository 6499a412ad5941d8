"""Demo content written for this project: sections, English articles, human translations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..articles import Editor
from ..db import Database
from ..domain import Variant, VariantOrigin, VariantStatus
from ..sanitize import clean_html, clean_text
from ..schemas import ArticleIn, SectionIn, SectionPatch, parse_document
from ..store import Store

CONTENT = Path(__file__).with_name("content.json")


@dataclass(frozen=True)
class DemoReport:
    sections: int
    articles: int
    translations: int


def demo_content() -> dict[str, Any]:
    return json.loads(CONTENT.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def load_demo(database: Database) -> DemoReport:
    """Load (or refresh) the demo; running it twice changes nothing the second time."""
    content = demo_content()
    translations = 0
    with database.session() as session:
        store = Store(session)
        editor = Editor(store)
        for item in content["sections"]:
            if store.section_exists(item["path"]):
                editor.update_section(
                    item["path"], parse_document(SectionPatch, {"names": item["names"]})
                )
            else:
                editor.create_section(parse_document(SectionIn, item))
        for item in content["articles"]:
            fields = {k: v for k, v in item.items() if k != "translations"}
            article = editor.upsert(parse_document(ArticleIn, fields)).article
            for lang, text in item.get("translations", {}).items():
                store.save_variant(
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
                    )
                )
                translations += 1
    return DemoReport(len(content["sections"]), len(content["articles"]), translations)
