"""Languages converted from another target's approved text (OpenCC), not translated.

Traditional Chinese (``zh-Hant:from=zh-Hans``) has no Argos model; Simplified Chinese
reviewed by people converts into it reliably. So each derived segment is the OpenCC
conversion of the base segment with the same key and English source, made only once that
one is approved: a machine draft is never converted. The derived segment then lives like
any other (its own review, memory and provenance), and nothing here overwrites what a
person wrote or approved in the derived language."""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import Flask

from .config import Language, Settings
from .db import Database
from .domain import (
    JobStatus,
    NotFound,
    PreconditionFailed,
    SegmentOrigin,
    SegmentStatus,
    StoredSegment,
)
from .placeholders import LONE_TOKEN
from .store import Store

if TYPE_CHECKING:
    import opencc

log = logging.getLogger(__name__)
# A placeholder the segmenter made: {1}, {/1}; never the escaped braces {{ or }}.
CONVERT = "convert"  # history action of a conversion that replaced an earlier one
WITHDRAW = "withdraw"  # ... of a conversion whose base text a reviewer rejected
BASE_CHANGED = "base_changed"  # ... of human work whose approved base text changed

# The configured languages of each app's database: a job runs with its database and
# its job record only, and learns here whether its language is derived.
_languages: weakref.WeakKeyDictionary[Database, tuple[Language, ...]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def init_app(app: Flask, settings: Settings) -> None:
    """Make the app's derived languages known to the jobs that run on its database."""
    register(app.extensions["feedsvc.db"], settings.languages)


def register(database: Database, languages: Sequence[Language]) -> None:
    """Records an app's languages for its database, so jobs can tell derived languages apart."""
    with _lock:
        _languages[database] = tuple(languages)


def language_of(database: Database, tag: str) -> Language | None:
    """The configured language ``tag`` of the app that owns ``database``, if registered."""
    with _lock:
        languages = _languages.get(database, ())
    return next((lang for lang in languages if lang.tag == tag), None)


def derived_language(database: Database, tag: str) -> Language | None:
    """``tag``'s language when it is derived from another target; None otherwise."""
    language = language_of(database, tag)
    return language if language is not None and language.derived_from else None


def derivatives_of(database: Database, tag: str) -> tuple[Language, ...]:
    """The languages derived from ``tag`` (zh-Hant for zh-Hans)."""
    language = language_of(database, tag)
    return language.derivatives if language is not None else ()


@functools.lru_cache(maxsize=8)
def _converter(config: str) -> opencc.OpenCC:
    import opencc  # loaded by the first derived language, not by every process

    return opencc.OpenCC(config)


def convert(text: str, config: str) -> str:
    """``text`` in the script ``config`` writes (s2twp: Taiwan characters and phrases).

    OpenCC reads whole sentences, so phrases convert as phrases; it leaves placeholders,
    digits, Latin letters and punctuation alone. Should a conversion ever touch a
    placeholder, the text is converted run by run between placeholders instead."""
    converter = _converter(config)
    converted: str = converter.convert(text)
    if LONE_TOKEN.findall(converted) == LONE_TOKEN.findall(text):
        return converted
    pieces: list[str] = []
    position = 0
    for match in LONE_TOKEN.finditer(text):
        pieces.append(converter.convert(text[position : match.start()]))
        pieces.append(match.group())
        position = match.end()
    pieces.append(converter.convert(text[position:]))
    return "".join(pieces)


def _is_base_of(base: StoredSegment, segment: StoredSegment) -> bool:
    """The base segment a derived one converts: same key, same English sentence, approved."""
    return (
        base.key == segment.key
        and base.source_hash == segment.source_hash
        and base.status is SegmentStatus.APPROVED
        and bool(base.target)
    )


def _rejected_texts(store: Store, segment_ids: Iterable[int]) -> dict[int, set[str]]:
    """Texts a reviewer rejected, by segment: a rejected conversion is not made again."""
    rejected = store.segments.rejected(list(segment_ids))
    if not rejected:
        return {}
    histories = store.segments.histories(sorted(rejected))
    return {
        segment_id: {h.before_target for h in entries if h.action == "reject" and h.before_target}
        for segment_id, entries in histories.items()
    }


def convert_pending(store: Store, article_id: int, language: Language, now: datetime) -> int:
    """Convert every pending segment of derived ``language`` whose base segment is approved;
    the rest stay pending until it is. Returns how many were filled. Each write is the
    store's conditional fill (still pending, same source), so a translator's change or a
    newer cut that got there first wins."""
    assert language.derived_from and language.opencc
    pending = [
        s for s in store.segments.of(article_id, language.tag) if s.status is SegmentStatus.PENDING
    ]
    if not pending:
        return 0
    base = {s.key: s for s in store.segments.of(article_id, language.derived_from)}
    ready = [
        (segment, base[segment.key])
        for segment in pending
        if segment.key in base and _is_base_of(base[segment.key], segment)
    ]
    refused = _rejected_texts(store, (segment.id for segment, _ in ready))
    filled = 0
    for segment, approved in ready:
        text = convert(approved.target or "", language.opencc)
        if text in refused.get(segment.id, ()):
            continue
        filled += store.segments.fill(
            segment, text, SegmentOrigin.CONVERTED, SegmentStatus.TRANSLATED, now
        )
    if filled:
        log.info(
            "converted article_id=%d lang=%s from=%s segments=%d waiting=%d",
            article_id,
            language.tag,
            language.derived_from,
            filled,
            len(pending) - filled,
        )
    return filled


def waiting_for_base(store: Store, article_id: int, language: Language) -> str | None:
    """Why the derived language's job cannot finish yet (its worker records the job as
    waiting, with this message), or None when every segment has text. Approvals in the
    base language convert the rest without the job (``follow``), and wake it to end."""
    segments = store.segments.of(article_id, language.tag)
    missing = sum(1 for s in segments if s.target is None)
    if not missing:
        return None
    return (
        f"{missing} of {len(segments)} segments wait for approved {language.derived_from} "
        f"text to convert with OpenCC {language.opencc}"
    )


def wake_finished_job(
    store: Store, article_id: int, language: Language, now: datetime
) -> int | None:
    """The derived language's job waiting for approvals goes back to the queue once every
    segment has text, so it ends done; its id to dispatch, or None."""
    job = store.jobs.latest(article_id, language.tag)
    if job is None or job.status is not JobStatus.WAITING:
        return None
    if store.segments.missing_text(article_id, language.tag):
        return None
    return store.jobs.requeue(article_id, language.tag, job.revision, now)


class Followed(StrEnum):
    """What a change of a base segment did to the derived segment."""

    FILLED = "filled"  # a pending segment got its first conversion
    CONVERTED = "converted"  # an earlier, unedited conversion was replaced
    WITHDRAWN = "withdrawn"  # the base text was rejected: back to pending
    MARKED = "marked"  # human work kept, back in review: its approved base changed
    KEPT = "kept"  # human work kept as it is
    UNCHANGED = "unchanged"  # nothing to do

    @property
    def wrote(self) -> bool:
        """Whether the derived segment changed, so its variant must be published again."""
        return self not in (Followed.KEPT, Followed.UNCHANGED)


def follow(
    store: Store,
    language: Language,
    before: StoredSegment,
    after: StoredSegment,
    actor: str,
    now: datetime,
    rejected: bool = False,
) -> Followed:
    """Bring the derived segment of ``language`` in step with a change of its base segment
    (``before`` → ``after``), in the caller's transaction.

    - base approved: a pending derived segment is filled with the conversion; a derived
      segment still carrying an earlier conversion (approved or not) gets the new one,
      to be reviewed again;
    - human work in the derived language (edited, or filled from its memory) is never
      overwritten: it is kept, and if it was approved while its approved base text has
      now changed, it goes back to review (``translated``) with the reason in its history;
    - base rejected: an unreviewed conversion of the rejected text is withdrawn (pending)
      until the base is approved again; an edit saved without approval changes nothing.

    A derived segment that does not exist yet, or was cut from another revision of the
    article, is left to the derived language's job, which converts what is approved."""
    assert language.derived_from == before.lang and language.opencc
    try:
        segment = store.segments.get(after.article_id, language.tag, after.key)
    except NotFound:
        return Followed.UNCHANGED
    if segment.source_hash != after.source_hash:
        return Followed.UNCHANGED

    def change(
        target: str | None, status: SegmentStatus, origin: SegmentOrigin | None, action: str
    ) -> bool:
        """The store's versioned change of the derived segment as read in this transaction;
        False when a person changed it in between (PostgreSQL): their work wins, and the
        base language's translator is not refused for a segment they never saw."""
        try:
            store.segments.change(segment, target, status, origin, actor, action, now)
        except PreconditionFailed:
            log.info(
                "derived segment changed meanwhile, left as it is article_id=%d lang=%s key=%s",
                segment.article_id,
                segment.lang,
                segment.key,
            )
            return False
        return True

    if not _is_base_of(after, segment):
        if rejected and segment.origin is SegmentOrigin.CONVERTED:
            if segment.status is not SegmentStatus.APPROVED:
                withdrawn = change(None, SegmentStatus.PENDING, None, WITHDRAW)
                return Followed.WITHDRAWN if withdrawn else Followed.KEPT
        return Followed.UNCHANGED
    text = convert(after.target or "", language.opencc)
    if segment.status is SegmentStatus.PENDING:
        if text in _rejected_texts(store, [segment.id]).get(segment.id, ()):
            return Followed.UNCHANGED
        filled = store.segments.fill(
            segment, text, SegmentOrigin.CONVERTED, SegmentStatus.TRANSLATED, now
        )
        return Followed.FILLED if filled else Followed.UNCHANGED
    if segment.target == text:
        return Followed.UNCHANGED
    if segment.origin is SegmentOrigin.CONVERTED:
        converted = change(text, SegmentStatus.TRANSLATED, SegmentOrigin.CONVERTED, CONVERT)
        return Followed.CONVERTED if converted else Followed.KEPT
    base_edited = before.status is SegmentStatus.APPROVED and before.target != after.target
    if segment.status is SegmentStatus.APPROVED and base_edited:
        marked = change(segment.target, SegmentStatus.TRANSLATED, segment.origin, BASE_CHANGED)
        return Followed.MARKED if marked else Followed.KEPT
    return Followed.KEPT
