"""Runs one translation job: segments → memory → glossary → engine → store → variant.

Each step commits on its own, so a worker killed mid-job loses nothing: the next run
finds the segments already translated and sends only the rest to the engine."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm.exc import StaleDataError

from . import glossary, qa
from .config import SOURCE_LANGUAGE
from .db import Database
from .derived import convert_pending, derivatives_of, derived_language, waiting_for_base
from .domain import (
    Article,
    GlossaryTerm,
    Job,
    NotFound,
    SegmentOrigin,
    SegmentStatus,
    StoredSegment,
    Variant,
    VariantOrigin,
    VariantStatus,
)
from .engine import NoModel, Translator
from .engine import Term as EngineTerm
from .placeholders import LONE_TOKEN, render_token
from .sanitize import clean_html, clean_text
from .segments import (
    Segmented,
    SourceSegment,
    reassemble,
    render_text,
    segment_html,
    segment_text,
    word_count,
)
from .store import Store
from .store.memory import source_hash
from .store.variants import SegmentsChanged
from .typography import punctuate

log = logging.getLogger(__name__)
EngineSource = Callable[[str, str], Translator]  # (source tag, target tag) → Translator
RECUT_TRIES = 3
ALL_SHOWN = (VariantStatus.MACHINE_TRANSLATED, VariantStatus.REVIEWED)  # a `machine` policy


@dataclass(frozen=True)
class Cut:
    """An article cut into segments, and what it takes to put a translation back together."""

    segments: list[SourceSegment]
    body: Segmented

    @property
    def keys(self) -> list[str]:
        """The segment keys in article order: what the stored segment list must match."""
        return [segment.key for segment in self.segments]


def cut(title: str, summary: str | None, body_html: str) -> Cut:
    """Title, summary and body cut into segments the way every job and review cuts them."""
    body = segment_html(body_html)
    head = [segment_text("title", title)]
    if summary:
        head.append(segment_text("summary", summary))
    return Cut(head + body.segments, body)


def _tag_name(markup: str) -> str | None:
    match = re.match(r"<([a-z0-9]+)", markup)
    return match.group(1) if match else None


def aligned_target(source: SourceSegment, translation: SourceSegment) -> str | None:
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
            return render_token(mapping[pid], bool(closing))
        return translation.placeholders.get(pid, "")

    return LONE_TOKEN.sub(rewrite, translation.source)


@dataclass(frozen=True)
class Outcome:
    """What one job did, for the worker's log and the tests."""

    sent_to_engine: int
    from_memory: int
    published: bool
    waiting_for_model: str | None = None
    # Why the job stopped between engine calls (article deleted, or a newer revision);
    # the job then ends cancelled and, when superseded, the newer revision's job goes on.
    cancelled: str | None = None


Hold = Callable[[Store], None]  # extends the job's lease as its owner, or raises LeaseLost


class JobRunner:
    """Runs one job as the owner of its lease: every transaction that writes first holds
    the lease (``hold``), so a worker that lost its lease to another changes nothing."""

    def __init__(
        self,
        database: Database,
        engines: EngineSource,
        clock: Callable[[], datetime],
        call_tokens: int = 4096,
        hold: Hold = lambda store: None,
        shown: Collection[VariantStatus] = ALL_SHOWN,
    ) -> None:
        self.database = database
        self.engines = engines
        self.clock = clock
        self.call_tokens = call_tokens
        self.hold = hold
        self.shown = shown

    @contextmanager
    def _held(self) -> Iterator[Store]:
        with self.database.session() as session:
            store = Store(session)
            self.hold(store)
            yield store

    def run(self, job: Job) -> Outcome:
        """Run a job to its end, cutting again when the article changed under it."""
        for attempt in range(1, RECUT_TRIES + 1):
            try:
                prepared = self._prepare(job)
                break
            except (SegmentsChanged, StaleDataError):  # a translator saved meanwhile
                if attempt == RECUT_TRIES:
                    raise
        if prepared is None:  # deleted before the job started
            return Outcome(0, 0, False, cancelled="cancelled: the article was deleted")
        article, terms, from_memory = prepared
        for other in derivatives_of(self.database, job.lang):  # convert its memory approvals
            with self._held() as store:
                if convert_pending(store, article.id, other, self.clock()):
                    publish_variant(store, article.id, other.tag, self.clock(), other.shown)
        pending = [
            s for s in self._segments(article.id, job.lang) if s.status is SegmentStatus.PENDING
        ]
        sent = 0
        converted_from = derived_language(self.database, job.lang)  # never sent to the engine
        if pending and converted_from is not None:
            with self._held() as store:
                convert_pending(store, article.id, converted_from, self.clock())
                waiting = waiting_for_base(store, article.id, converted_from)
                published = publish_variant(store, article.id, job.lang, self.clock(), self.shown)
            return Outcome(0, from_memory, published, waiting_for_model=waiting)
        if pending:
            try:
                translator = self.engines(SOURCE_LANGUAGE, job.lang)
            except NoModel as exc:
                return Outcome(0, from_memory, False, waiting_for_model=str(exc))
            sent, cancelled = self._translate(
                article.id, article.revision, job.lang, pending, terms, translator
            )
            if cancelled is not None:
                return Outcome(sent, from_memory, False, cancelled=cancelled)
        with self._held() as store:
            published = publish_variant(store, job.article_id, job.lang, self.clock(), self.shown)
        return Outcome(sent, from_memory, published)

    def _prepare(self, job: Job) -> tuple[Article, list[GlossaryTerm], int] | None:
        """Cut the current article into segments (keeping what is still valid) and fill
        what the memory knows; None when the article is gone."""
        with self._held() as store:
            try:
                article = store.articles.get(job.article_id)
            except NotFound:
                return None
            if article.deleted_at is not None:
                return None
            pieces = cut(article.title, article.summary, article.body_html)
            states = self._reconcile(store, article, job.lang, pieces)
            store.segments.replace(article.id, job.lang, states, self.clock())
            terms = store.glossary.terms(SOURCE_LANGUAGE, job.lang)
            return article, terms, self._fill_from_memory(store, article.id, job.lang, terms)

    def _segments(self, article_id: int, lang: str) -> list[StoredSegment]:
        with self.database.session() as session:
            return Store(session).segments.of(article_id, lang)

    def _reconcile(
        self, store: Store, article: Article, lang: str, pieces: Cut
    ) -> list[StoredSegment]:
        """New segment list: unchanged sources keep their state (approved stays approved),
        wherever they moved; changed or new sources start pending."""
        existing = store.segments.of(article.id, lang)
        by_key = {s.key: s for s in existing}
        by_hash: dict[str, list[StoredSegment]] = {}
        for state in existing:
            by_hash.setdefault(state.source_hash, []).append(state)
        kept = {source_hash(segment.source) for segment in pieces.segments}
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
                        words=word_count(segment.source),
                    )
                )
            else:
                earlier = by_key.get(segment.key)
                set_aside = (
                    set_aside_translation(earlier)
                    if earlier is not None and earlier.source_hash not in kept
                    else (None, None)
                )
                states.append(
                    StoredSegment(
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
                        previous_source=set_aside[0],
                        previous_target=set_aside[1],
                        words=word_count(segment.source),
                    )
                )
        return states

    def _fill_from_memory(
        self, store: Store, article_id: int, lang: str, terms: Sequence[GlossaryTerm]
    ) -> int:
        """Pending segments whose exact source a translator approved before. A hit passes
        the same QA as a translator's text and is not used with an error (a lost token; a
        value that is not this sentence's), so a memory entry never carries another
        sentence's number. A hit without any issue is approved (a person approved this very
        sentence); one with warnings arrives translated, for a reviewer to look at, never
        approved. A segment a reviewer rejected is never refilled from memory."""
        pending = [
            s for s in store.segments.of(article_id, lang) if s.status is SegmentStatus.PENDING
        ]
        rejected = store.segments.rejected([s.id for s in pending])
        pending = [s for s in pending if s.id not in rejected]
        matches = store.memory.matches(SOURCE_LANGUAGE, lang, (s.source_hash for s in pending))
        qa_terms = [qa.Term(t.source_term, t.target_term, t.do_not_translate) for t in terms]
        filled = 0
        now = self.clock()
        for segment in pending:
            target = matches.get(segment.source_hash)
            if target is None:
                continue
            checked = qa.check(
                segment.source, target, segment.placeholders, qa_terms, SOURCE_LANGUAGE, lang
            )
            if any(i.severity == "error" for i in checked):
                log.info(
                    "memory hit refused by QA article_id=%d lang=%s key=%s issues=%s",
                    article_id,
                    lang,
                    segment.key,
                    ",".join(issue.code for issue in checked),
                )
                continue
            status = SegmentStatus.TRANSLATED if checked else SegmentStatus.APPROVED
            if store.segments.fill(segment, target, SegmentOrigin.MEMORY, status, now):
                filled += 1
        return filled

    def _cancelled(self, article_id: int, revision: int) -> str | None:
        with self.database.session() as session:
            return Store(session).jobs.cancelled_by(article_id, revision)

    def _translate(
        self,
        article_id: int,
        revision: int,
        lang: str,
        pending: Sequence[StoredSegment],
        terms: Sequence[GlossaryTerm],
        translator: Translator,
    ) -> tuple[int, str | None]:
        """Segments sent to the engine, and why the job stopped early (or None). Before
        each engine call the article is looked at: deleted, or edited past ``revision``,
        the job stops there, so a deletion costs at most the call already under way."""
        protected = {s.key: glossary.protect(s.source, terms) for s in pending}
        only_terms = [s for s in pending if glossary.is_only_terms(protected[s.key])]
        if only_terms:
            with self._held() as store:
                for s in only_terms:
                    text = glossary.restore(protected[s.key].text, protected[s.key])
                    store.segments.fill(
                        s, text, SegmentOrigin.GLOSSARY, SegmentStatus.TRANSLATED, self.clock(), 1.0
                    )
        to_engine = [s for s in pending if s not in only_terms]
        engine_terms = [EngineTerm(t.source_term, t.target_term, t.do_not_translate) for t in terms]
        sent = 0
        for call in calls(to_engine, self.call_tokens):
            if (cancelled := self._cancelled(article_id, revision)) is not None:
                log.info(
                    "job stopped article_id=%d lang=%s sent=%d of %d: %s",
                    article_id,
                    lang,
                    sent,
                    len(to_engine),
                    cancelled,
                )
                return sent, cancelled
            sent += len(call)
            outputs = translator.translate([s.source for s in call], engine_terms)
            with self._held() as store:  # saved before the next call: a kill loses one call
                written = sum(
                    store.segments.fill(
                        s,
                        punctuate(out.text, lang),
                        SegmentOrigin.MODEL,
                        SegmentStatus.TRANSLATED,
                        self.clock(),
                        out.score,
                        translator.name,
                    )
                    for s, out in zip(call, outputs, strict=True)
                )
            log.info(
                "engine call article_id=%d lang=%s segments=%d written=%d",
                article_id,
                lang,
                len(call),
                written,
            )
        return sent, None


def set_aside_translation(earlier: StoredSegment) -> tuple[str | None, str | None]:
    """(English, translation) a person made for a sentence whose English changed, kept
    for review against the new sentence: a person's text or an approved one; when the
    earlier segment already held one set aside (a second change before any review), that
    one, so the diff runs from what the person actually translated."""
    if earlier.previous_source is not None:
        return earlier.previous_source, earlier.previous_target
    human = earlier.origin is SegmentOrigin.HUMAN or earlier.status is SegmentStatus.APPROVED
    if human and earlier.target:
        return earlier.source, earlier.target
    return None, None


def estimated_tokens(text: str) -> int:
    """SentencePiece pieces of an English sentence, roughly: a piece per four characters."""
    return len(text) // 4 + 2


def calls(segments: Sequence[StoredSegment], budget: int) -> Iterator[list[StoredSegment]]:
    """Segments in document order, grouped into engine calls of about `budget` tokens; the
    engine sorts each call by length and batches it by tokens itself."""
    call: list[StoredSegment] = []
    used = 0
    for segment in segments:
        cost = estimated_tokens(segment.source)
        if call and used + cost > budget:
            yield call
            call, used = [], 0
        call.append(segment)
        used += cost
    if call:
        yield call


def publish_variant(
    store: Store,
    article_id: int,
    lang: str,
    now: datetime,
    shown: Collection[VariantStatus] = ALL_SHOWN,
) -> bool:
    """Write the variant from its segments and the article as read in this transaction.

    Reviewed when every segment is approved, machine-translated when every segment has a
    target; when a target is missing (a reviewer rejected it), the variant leaves the feeds
    until a job fills it. Segments cut from another revision of the article publish nothing:
    the job for the current revision will. A variant made from a newer revision is never
    replaced by an older one (the store enforces it). ``shown``: the statuses the
    language's policy publishes, so a change readers never saw is no revision."""
    try:
        article = store.articles.get(article_id)
    except NotFound:
        return False
    if article.deleted_at is not None:
        return False
    pieces = cut(article.title, article.summary, article.body_html)
    segments = store.segments.of(article.id, lang)
    current = {segment.key: source_hash(segment.source) for segment in pieces.segments}
    if {s.key: s.source_hash for s in segments} != current:
        return False
    if any(s.target is None for s in segments):
        store.variants.withdraw(article.id, lang, article.section_path, now)
        return False
    targets = {s.key: s.target or "" for s in segments}
    by_key = {segment.key: segment for segment in pieces.segments}
    approved = all(s.status is SegmentStatus.APPROVED for s in segments)
    machine = [s for s in segments if s.origin is SegmentOrigin.MODEL]
    summary = by_key.get("summary")
    return store.variants.save(
        Variant(
            article_id=article.id,
            lang=lang,
            title=clean_text(punctuate(render_text(by_key["title"], targets["title"]), lang)),
            summary=(
                clean_text(punctuate(render_text(summary, targets["summary"]), lang))
                if summary
                else None
            ),
            body_html=clean_html(reassemble(pieces.body, targets, lang)),
            origin=VariantOrigin.MACHINE if machine else VariantOrigin.HUMAN,
            status=VariantStatus.REVIEWED if approved else VariantStatus.MACHINE_TRANSLATED,
            source_revision=article.revision,
            updated_at=now,
            engine=machine[0].engine if machine else None,
        ),
        article.section_path,
        shown,
    )
