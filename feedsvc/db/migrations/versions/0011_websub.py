"""WebSub: the last seen state of each topic (a feed's first page), the built-in hub's
subscriptions, and the durable jobs that ping hubs, verify intent and deliver content.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "websub_topics",
        sa.Column("topic", sa.String(1024), nullable=False),
        sa.Column("scope", sa.String(512), nullable=False),
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("topic", name=op.f("pk_websub_topics")),
    )
    op.create_table(
        "websub_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("topic", sa.String(1024), nullable=False),
        sa.Column("callback", sa.String(2048), nullable=False),
        sa.Column("callback_host", sa.String(255), nullable=False),
        sa.Column("secret", sa.String(200), nullable=True),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_subscriptions")),
        sa.UniqueConstraint("key", name=op.f("uq_websub_subscriptions_key")),
    )
    op.create_index("ix_websub_subscriptions_topic", "websub_subscriptions", ["topic"])
    op.create_index(
        "ix_websub_subscriptions_callback_host", "websub_subscriptions", ["callback_host"]
    )
    op.create_table(
        "websub_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(2048), nullable=False),
        sa.Column("topic", sa.String(1024), nullable=False),
        sa.Column("dedup", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(20), nullable=True),
        sa.Column("lease_seconds", sa.Integer(), nullable=True),
        sa.Column("secret", sa.String(200), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_websub_jobs")),
    )
    op.create_index("ix_websub_jobs_status_run_after", "websub_jobs", ["status", "run_after"])
    op.create_index(
        "ux_websub_jobs_pending",
        "websub_jobs",
        ["dedup"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ux_websub_jobs_pending", table_name="websub_jobs")
    op.drop_index("ix_websub_jobs_status_run_after", table_name="websub_jobs")
    op.drop_table("websub_jobs")
    op.drop_index("ix_websub_subscriptions_callback_host", table_name="websub_subscriptions")
    op.drop_index("ix_websub_subscriptions_topic", table_name="websub_subscriptions")
    op.drop_table("websub_subscriptions")
    op.drop_table("websub_topics")
