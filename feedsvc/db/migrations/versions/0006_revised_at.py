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


COLUMNS = {
    "articles": ("revised_at", "shared_revised_at"),
    "article_variants": ("revised_at", "shown_at"),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    # Variants published before this revision have been shown since they were made.
    op.execute("UPDATE article_variants SET shown_at = created_at "
               "WHERE status IN ('machine_translated', 'reviewed')")


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_column(column)
