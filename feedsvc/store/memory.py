"""Translation memory: human-approved targets by exact source sentence."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from ..db.tables import MemoryRow
from . import rows
from .base import Repository


def normalized(text: str) -> str:
    """Collapses whitespace, so reflowed source text still hits the translation memory."""
    return " ".join(text.split())


def source_hash(text: str) -> str:
    """The translation memory's key: whitespace-normalized exact source text."""
    return hashlib.sha256(normalized(text).encode()).hexdigest()


class Memory(Repository):
    """Translation memory: approved targets reused for identical source text."""

    def matches(self, source_lang: str, target_lang: str, hashes: Iterable[str]) -> dict[str, str]:
        """Approved targets by source hash; each hit is counted as a use."""
        wanted = list(set(hashes))
        if not wanted:
            return {}
        pair = MemoryRow.of_pair(source_lang, target_lang)
        found = {
            source_hash: target
            for source_hash, target in self.session.execute(
                select(MemoryRow.source_hash, MemoryRow.target).where(
                    pair, MemoryRow.source_hash.in_(wanted)
                )
            )
        }
        if found:
            self.session.execute(
                update(MemoryRow)
                .where(pair, MemoryRow.source_hash.in_(list(found)))
                .values(uses=MemoryRow.uses + 1)
                .execution_options(synchronize_session=False)
            )
        return found

    def remember(
        self,
        source_lang: str,
        target_lang: str,
        source_hash: str,
        source: str,
        target: str,
        now: datetime,
    ) -> None:
        """The latest approved target for a source sentence (insert or replace, atomically)."""
        statement = rows.upsert_insert(self.session, MemoryRow).values(
            source_lang=source_lang,
            target_lang=target_lang,
            source_hash=source_hash,
            source=source,
            target=target,
            uses=0,
            created_at=now,
            updated_at=now,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    MemoryRow.source_lang,
                    MemoryRow.target_lang,
                    MemoryRow.source_hash,
                ],
                set_={"target": statement.excluded.target, "updated_at": now},
                where=MemoryRow.target != statement.excluded.target,
            )
        )

    def forget(self, source_lang: str, target_lang: str, source_hash: str, target: str) -> None:
        """Drop an entry a reviewer rejected, if it still holds the rejected text."""
        self.session.execute(
            delete(MemoryRow).where(
                MemoryRow.of_pair(source_lang, target_lang),
                MemoryRow.source_hash == source_hash,
                MemoryRow.target == target,
            )
        )

    def candidates_for(
        self, source_lang: str, target_lang: str, lengths: Iterable[int], limit: int = 500
    ) -> list[tuple[str, str]]:
        """(source, target) pairs of a length similar to any of ``lengths``, newest first:
        one query and one bounded candidate set for a whole article's segments."""
        windows = length_windows(lengths)
        if not windows:
            return []
        length = func.length(MemoryRow.source)
        found = self.session.execute(
            select(MemoryRow.source, MemoryRow.target)
            .where(
                MemoryRow.of_pair(source_lang, target_lang),
                or_(*(length.between(low, high) for low, high in windows)),
            )
            .order_by(MemoryRow.updated_at.desc(), MemoryRow.id.desc())
            .limit(limit)
        )
        return [(row[0], row[1]) for row in found]


def length_window(length: int) -> tuple[int, int]:
    """Source lengths worth comparing with a sentence of ``length`` characters."""
    return int(length * 0.6), int(length * 1.6)


def length_windows(lengths: Iterable[int]) -> list[tuple[int, int]]:
    """The windows of ``lengths`` merged where they overlap: a short OR in SQL that still
    leaves out the lengths no segment needs."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(length_window(length) for length in set(lengths)):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged
