"""Conditional writes: segment versions, job lease owners, one running job per variant.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("translation_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=32), nullable=True))
    # Jobs left running by an older version have no owner: back to the queue.
    op.execute("UPDATE translation_jobs SET status = 'queued', lease_until = NULL "
               "WHERE status = 'running'")
    op.create_index("ux_translation_jobs_running", "translation_jobs", ["article_id", "lang"],
                    unique=True, sqlite_where=sa.text("status = 'running'"),
                    postgresql_where=sa.text("status = 'running'"))


def downgrade() -> None:
    op.drop_index("ux_translation_jobs_running", table_name="translation_jobs")
    with op.batch_alter_table("translation_jobs", schema=None) as batch_op:
        batch_op.drop_column("lease_owner")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.drop_column("version")
