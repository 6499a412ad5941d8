"""Segments keep numbers, URLs and e-mail addresses as text; alt and title are segments.

The model now reads whole sentences, so a stored segment whose placeholder protected plain
text (``{2}`` for "3.2") gets the text back in its source and targets, its markup
placeholders renumbered in order, and a new source hash: exactly what the segmenter now
cuts, so approved work stays approved. Memory entries follow their segments (an entry no
segment explains can never match again and stays as it was). Articles whose body has
``alt`` or ``title`` attributes are queued once more for each language they have segments
in, so the worker adds the new attribute segments (from memory or the model).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TOKEN = re.compile(r"\{(/?)(\d+)\}")
PAGE = 1000

segments = sa.table(
    "segments",
    sa.column("id", sa.Integer),
    sa.column("article_id", sa.Integer),
    sa.column("lang", sa.String),
    sa.column("source", sa.Text),
    sa.column("source_hash", sa.String),
    sa.column("placeholders", sa.JSON),
    sa.column("target", sa.Text),
    sa.column("machine_target", sa.Text),
)
memory = sa.table(
    "translation_memory",
    sa.column("id", sa.Integer),
    sa.column("source_lang", sa.String),
    sa.column("target_lang", sa.String),
    sa.column("source_hash", sa.String),
    sa.column("source", sa.Text),
    sa.column("target", sa.Text),
)
articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("revision", sa.Integer),
    sa.column("body_html", sa.Text),
    sa.column("deleted_at", sa.DateTime(timezone=True)),
)
jobs = sa.table(
    "translation_jobs",
    sa.column("id", sa.Integer),
    sa.column("article_id", sa.Integer),
    sa.column("lang", sa.String),
    sa.column("revision", sa.Integer),
    sa.column("status", sa.String),
    sa.column("attempts", sa.Integer),
    sa.column("last_error", sa.Text),
    sa.column("run_after", sa.DateTime(timezone=True)),
    sa.column("lease_until", sa.DateTime(timezone=True)),
    sa.column("lease_owner", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("finished_at", sa.DateTime(timezone=True)),
)


def _hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def _is_text(value: str) -> bool:
    """A placeholder for plain text (a number, URL, e-mail), not markup or a literal brace."""
    return not value.startswith("<") and not set(value) <= {"{", "}"}


def _rewriter(placeholders: dict[str, str]) -> Callable[[str], str] | None:
    """Puts text placeholders back as their text and renumbers the rest; None if no change."""
    text_ids = {pid for pid, value in placeholders.items() if _is_text(value)}
    if not text_ids:
        return None
    kept = sorted((pid for pid in placeholders if pid not in text_ids), key=int)
    new_ids = {pid: str(number) for number, pid in enumerate(kept, start=1)}

    def rewrite(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            closing, pid = match.groups()
            if pid in text_ids:
                return "" if closing else placeholders[pid]
            if pid in new_ids:
                return "{" + closing + new_ids[pid] + "}"
            return match.group()

        return TOKEN.sub(one, text)

    return rewrite


def upgrade() -> None:
    bind = op.get_bind()
    renamed: dict[tuple[str, str], tuple[str, Callable[[str], str]]] = {}  # by (lang, old hash)
    last = 0
    while True:
        page = bind.execute(
            sa.select(segments).where(segments.c.id > last).order_by(segments.c.id).limit(PAGE)
        ).all()
        if not page:
            break
        last = page[-1].id
        updates = []
        for row in page:
            placeholders = dict(row.placeholders or {})
            rewrite = _rewriter(placeholders)
            if rewrite is None:
                continue
            source = rewrite(row.source)
            new_hash = _hash(source)
            renamed.setdefault((row.lang, row.source_hash), (new_hash, rewrite))
            updates.append(
                {
                    "row_id": row.id,
                    "new_source": source,
                    "new_hash": new_hash,
                    "new_placeholders": {
                        pid: value for pid, value in placeholders.items() if not _is_text(value)
                    },
                    "new_target": rewrite(row.target) if row.target is not None else None,
                    "new_machine": (
                        rewrite(row.machine_target) if row.machine_target is not None else None
                    ),
                }
            )
        if updates:
            bind.execute(
                segments.update()
                .where(segments.c.id == sa.bindparam("row_id"))
                .values(
                    source=sa.bindparam("new_source"),
                    source_hash=sa.bindparam("new_hash"),
                    placeholders=sa.bindparam("new_placeholders", type_=sa.JSON),
                    target=sa.bindparam("new_target"),
                    machine_target=sa.bindparam("new_machine"),
                ),
                updates,
            )
            # The placeholders keep their new ids: renumbered in order, as the segmenter does.
    _rewrite_memory(bind, renamed)
    _requeue_attribute_bearing(bind)


def _rewrite_memory(
    bind: sa.Connection, renamed: dict[tuple[str, str], tuple[str, Callable[[str], str]]]
) -> None:
    rows = bind.execute(sa.select(memory)).all()
    taken = {(row.source_lang, row.target_lang, row.source_hash) for row in rows}
    for row in rows:
        found = renamed.get((row.target_lang, row.source_hash))
        if found is None:
            continue
        new_hash, rewrite = found
        key = (row.source_lang, row.target_lang, new_hash)
        if key in taken:  # the same sentence is already remembered under the new grammar
            continue
        taken.add(key)
        bind.execute(
            memory.update()
            .where(memory.c.id == row.id)
            .values(source=rewrite(row.source), target=rewrite(row.target), source_hash=new_hash)
        )


def _requeue_attribute_bearing(bind: sa.Connection) -> None:
    now = datetime.now(UTC)
    pairs = bind.execute(
        sa.select(segments.c.article_id, segments.c.lang, articles.c.revision)
        .join(articles, articles.c.id == segments.c.article_id)
        .where(
            articles.c.deleted_at.is_(None),
            sa.or_(articles.c.body_html.like('%alt="%'), articles.c.body_html.like('%title="%')),
        )
        .distinct()
    ).all()
    for article_id, lang, article_revision in pairs:
        where = (
            jobs.c.article_id == article_id,
            jobs.c.lang == lang,
            jobs.c.revision == article_revision,
        )
        status = bind.execute(sa.select(jobs.c.status).where(*where)).scalar()
        if status is None:
            bind.execute(
                jobs.insert().values(
                    article_id=article_id,
                    lang=lang,
                    revision=article_revision,
                    status="queued",
                    attempts=0,
                    run_after=now,
                    created_at=now,
                )
            )
        elif status == "done":
            bind.execute(
                jobs.update()
                .where(*where)
                .values(
                    status="queued",
                    attempts=0,
                    last_error=None,
                    run_after=now,
                    lease_until=None,
                    lease_owner=None,
                    finished_at=None,
                )
            )


def downgrade() -> None:
    """Segments cut the new way are re-cut by the next job of an older release."""
