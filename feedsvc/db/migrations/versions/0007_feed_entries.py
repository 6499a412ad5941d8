"""Feed entries: each feed's entry list materialized, so a page costs the same at any size.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SOURCE_LANGUAGE = "en"
SHOWN = ("machine_translated", "reviewed")


def upgrade() -> None:
    op.create_table(
        "feed_entries",
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("lang", sa.String(35), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_feed_entries_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "scope", "lang", "status", "published_at", "article_id", name=op.f("pk_feed_entries")
        ),
    )
    op.create_index("ix_feed_entries_article_id", "feed_entries", ["article_id"])
    op.create_table(
        "feed_entry_counts",
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("lang", sa.String(35), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "lang", "status", name=op.f("pk_feed_entry_counts")),
    )
    _fill()


def _fill() -> None:
    """Every live article under its section and each ancestor: in the source language, and
    in each language where its variant is machine-translated or reviewed."""
    connection = op.get_bind()
    sections = connection.execute(sa.text("SELECT id, path FROM sections")).all()
    for section_id, path in sections:
        parts = path.split("/")
        for scope in ["", *("/".join(parts[:n]) for n in range(1, len(parts) + 1))]:
            params = {"scope": scope, "section_id": section_id, "source": SOURCE_LANGUAGE}
            connection.execute(
                sa.text(
                    "INSERT INTO feed_entries (scope, lang, status, published_at, article_id) "
                    "SELECT :scope, :source, 'source', published_at, id FROM articles "
                    "WHERE section_id = :section_id AND deleted_at IS NULL"
                ),
                params,
            )
            connection.execute(
                sa.text(
                    "INSERT INTO feed_entries (scope, lang, status, published_at, article_id) "
                    "SELECT :scope, v.lang, v.status, a.published_at, a.id "
                    "FROM articles a JOIN article_variants v ON v.article_id = a.id "
                    "WHERE a.section_id = :section_id AND a.deleted_at IS NULL "
                    "AND v.status IN ('machine_translated', 'reviewed')"
                ),
                params,
            )
    connection.execute(
        sa.text(
            "INSERT INTO feed_entry_counts (scope, lang, status, entries) "
            "SELECT scope, lang, status, count(*) FROM feed_entries GROUP BY scope, lang, status"
        )
    )


def downgrade() -> None:
    op.drop_table("feed_entry_counts")
    op.drop_index("ix_feed_entries_article_id", table_name="feed_entries")
    op.drop_table("feed_entries")
