"""Runs one translation job: segments → memory → glossary → engine → store → variant.

Each step commits on its own, so a worker killed mid-job loses nothing: the next run
finds the segments already translated and sends only the rest to the engine."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from . import glossary
from .config import SOURCE_LANGUAGE
from .db import Database
from .domain import (
    Article,
    Job,
    NotFound,
    SegmentOrigin,
    SegmentState,
    SegmentStatus,
    Variant,
    VariantOrigin,
    VariantStatus,
)
from .engine import NoModel, Translator
from .sanitize import clean_html, clean_text
from .segments import Segment, Segmented, reassemble, render_text, segment_html, segment_text
from .store import Store

log = logging.getLogger(__name__)
EngineSource = Callable[[str, str], Translator]  # (source tag, target tag) → Translator


def normalized(text: str) -> str:
    return " ".join(text.split())


def source_hash(text: str) -> str:
    """The translation memory's key: whitespace-normalized exact source text."""
    return hashlib.sha256(normalized(text).encode()).hexdigest()


@dataclass(frozen=True)
class Cut:
    """An article cut into segments, and what it takes to put a translation back together."""

    segments: list[Segment]
    body: Segmented

    @property
    def keys(self) -> list[str]:
        return [segment.key for segment in self.segments]


def cut(title: str, summary: str | None, body_html: str) -> Cut:
    body = segment_html(body_html)
    head = [segment_text("title", title)]
    if summary:
        head.append(segment_text("summary", summary))
    return Cut(head + body.segments, body)


_PLACEHOLDER = re.compile(r"(?<!\{)\{(/?)(\d+)\}(?!\})")


def _tag_name(markup: str) -> str | None:
    match = re.match(r"<([a-z0-9]+)", markup)
    return match.group(1) if match else None


def aligned_target(source: Segment, translation: Segment) -> str | None:
    """A human translation segment rewritten against the source's placeholders: its inline
    tags take the ids of the source's tags of the same name, in order; its protected runs
    take the id of an equal run in the source (a number, a URL) or become plain text.
    None when the inline tags do not correspond."""
    source_tags: dict[str, list[str]] = {}
    source_runs: dict[str, list[str]] = {}
    for pid, value in source.placeholders.items():
        if (name := _tag_name(value)) is not None:
            source_tags.setdefault(name, []).append(pid)
        else:
            source_runs.setdefault(value, []).append(pid)
    mapping: dict[str, str] = {}
    for pid, value in translation.placeholders.items():
        name = _tag_name(value)
        if name is None:
            if source_runs.get(value):
                mapping[pid] = source_runs[value].pop(0)
            continue
        candidates = source_tags.get(name)
        if not candidates:
            return None
        mapping[pid] = candidates.pop(0)
    if any(source_tags.values()):
        return None

    def rewrite(match: re.Match[str]) -> str:
        closing, pid = match.groups()
        if pid in mapping:
            return f"{{{closing}{mapping[pid]}}}"
        return translation.placeholders.get(pid, "")

    return _PLACEHOLDER.sub(rewrite, translation.source)


@dataclass(frozen=True)
class Outcome:
    sent_to_engine: int
    from_memory: int
    published: bool
    waiting_for_model: str | None = None


class JobRunner:
    def __init__(
        self,
        database: Database,
        engines: EngineSource,
        clock: Callable[[], datetime],
        batch_segments: int = 16,
        heartbeat: Callable[[], None] = lambda: None,
    ) -> None:
        self.database = database
        self.engines = engines
        self.clock = clock
        self.batch_segments = batch_segments
        self.heartbeat = heartbeat  # called between engine batches (lease extension)

    def run(self, job: Job) -> Outcome:
        with self.database.session() as session:
            store = Store(session)
            try:
                article = store.article(job.article_id)
            except NotFound:
                return Outcome(0, 0, False)
            if article.deleted_at is not None:
                return Outcome(0, 0, False)
            pieces = cut(article.title, article.summary, article.body_html)
            states = self._reconcile(store, article, job.lang, pieces)
            store.replace_segments(article.id, job.lang, states, self.clock())
            from_memory = self._fill_from_memory(store, article.id, job.lang)
            terms = store.glossary(SOURCE_LANGUAGE, job.lang)

        pending = [
            s for s in self._segments(article.id, job.lang) if s.status is SegmentStatus.PENDING
        ]
        sent = 0
        if pending:
            try:
                translator = self.engines(SOURCE_LANGUAGE, job.lang)
            except NoModel as exc:
                return Outcome(0, from_memory, False, waiting_for_model=str(exc))
            sent = self._translate(article.id, job.lang, pending, terms, translator)
        published = self._publish(article, job.lang, pieces)
        return Outcome(sent, from_memory, published)

    def _segments(self, article_id: int, lang: str) -> list[SegmentState]:
        with self.database.session() as session:
            return Store(session).segments(article_id, lang)

    def _reconcile(
        self, store: Store, article: Article, lang: str, pieces: Cut
    ) -> list[SegmentState]:
        """New segment list: unchanged sources keep their state (approved stays approved),
        wherever they moved; changed or new sources start pending."""
        existing = store.segments(article.id, lang)
        by_key = {s.key: s for s in existing}
        by_hash: dict[str, list[SegmentState]] = {}
        for state in existing:
            by_hash.setdefault(state.source_hash, []).append(state)
        now = self.clock()
        states = []
        for position, segment in enumerate(pieces.segments):
            digest = source_hash(segment.source)
            same = by_key.get(segment.key)
            if same is None or same.source_hash != digest:
                same = next(iter(by_hash.get(digest, [])), None)
            if same is not None:
                by_hash[digest].remove(same)
                states.append(
                    replace(
                        same,
                        key=segment.key,
                        position=position,
                        source=segment.source,
                        placeholders=dict(segment.placeholders),
                    )
                )
            else:
                states.append(
                    SegmentState(
                        id=0,
                        article_id=article.id,
                        lang=lang,
                        key=segment.key,
                        position=position,
                        source=segment.source,
                        source_hash=digest,
                        placeholders=dict(segment.placeholders),
                        target=None,
                        machine_target=None,
                        origin=None,
                        status=SegmentStatus.PENDING,
                        score=None,
                        engine=None,
                        model_runs=by_key[segment.key].model_runs if segment.key in by_key else 0,
                        updated_at=now,
                    )
                )
        return states

    def _fill_from_memory(self, store: Store, article_id: int, lang: str) -> int:
        segments = store.segments(article_id, lang)
        pending = [s for s in segments if s.status is SegmentStatus.PENDING]
        matches = store.memory_matches(SOURCE_LANGUAGE, lang, (s.source_hash for s in pending))
        if not matches:
            return 0
        filled = [
            replace(
                s,
                target=matches[s.source_hash],
                origin=SegmentOrigin.MEMORY,
                status=SegmentStatus.APPROVED,
            )
            if s.source_hash in matches and s.status is SegmentStatus.PENDING
            else s
            for s in segments
        ]
        store.replace_segments(article_id, lang, filled, self.clock())
        return sum(1 for s in pending if s.source_hash in matches)

    def _translate(
        self,
        article_id: int,
        lang: str,
        pending: Sequence[SegmentState],
        terms: Sequence[glossary.GlossaryTerm],
        translator: Translator,
    ) -> int:
        protected = {s.key: glossary.protect(s.source, terms) for s in pending}
        only_terms = {key for key, p in protected.items() if glossary.is_only_terms(p)}
        if only_terms:
            with self.database.session() as session:
                store = Store(session)
                states = store.segments(article_id, lang)
                store.replace_segments(
                    article_id,
                    lang,
                    [
                        replace(
                            s,
                            target=glossary.restore(protected[s.key].text, protected[s.key]),
                            origin=SegmentOrigin.GLOSSARY,
                            status=SegmentStatus.TRANSLATED,
                            score=1.0,
                        )
                        if s.key in only_terms
                        else s
                        for s in states
                    ],
                    self.clock(),
                )
        to_engine = [s for s in pending if s.key not in only_terms]
        for start in range(0, len(to_engine), self.batch_segments):
            batch = to_engine[start : start + self.batch_segments]
            outputs = translator.translate([protected[s.key].text for s in batch])
            results = {
                s.key: (glossary.restore(out.text, protected[s.key]), out.score, translator.name)
                for s, out in zip(batch, outputs, strict=True)
            }
            with self.database.session() as session:
                Store(session).record_machine_targets(article_id, lang, results, self.clock())
            self.heartbeat()
            log.info("engine batch article_id=%d lang=%s segments=%d", article_id, lang, len(batch))
        return len(to_engine)

    def _publish(self, article: Article, lang: str, pieces: Cut) -> bool:
        with self.database.session() as session:
            return publish_variant(Store(session), article, lang, self.clock(), pieces)


def publish_variant(
    store: Store, article: Article, lang: str, now: datetime, pieces: Cut | None = None
) -> bool:
    """Write the variant from its segments, once every segment has a target: reviewed when
    all are approved, machine-translated otherwise."""
    pieces = pieces or cut(article.title, article.summary, article.body_html)
    segments = store.segments(article.id, lang)
    if not segments or any(s.target is None for s in segments):
        return False
    targets = {s.key: s.target or "" for s in segments}
    by_key = {segment.key: segment for segment in pieces.segments}
    approved = all(s.status is SegmentStatus.APPROVED for s in segments)
    machine = [s for s in segments if s.origin is SegmentOrigin.MODEL]
    summary = by_key.get("summary")
    store.save_variant(
        Variant(
            article_id=article.id,
            lang=lang,
            title=clean_text(render_text(by_key["title"], targets["title"])),
            summary=clean_text(render_text(summary, targets["summary"])) if summary else None,
            body_html=clean_html(reassemble(pieces.body, targets)),
            origin=VariantOrigin.MACHINE if machine else VariantOrigin.HUMAN,
            status=VariantStatus.REVIEWED if approved else VariantStatus.MACHINE_TRANSLATED,
            source_revision=article.revision,
            updated_at=now,
            engine=machine[0].engine if machine else None,
        )
    )
    return True
