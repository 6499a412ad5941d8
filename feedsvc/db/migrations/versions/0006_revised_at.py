"""Revision times: what a feed entry's updated reads, apart from the database write time.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("articles", "article_variants"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("revised_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in ("article_variants", "articles"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("revised_at")
