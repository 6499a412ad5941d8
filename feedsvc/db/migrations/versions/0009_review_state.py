"""Review state a translator needs: the translation a source change set aside, dismissed
warnings, English word counts, and a note on history entries.

``previous_source``/``previous_target`` keep the human translation of a sentence whose
English changed, so it is reviewed rather than lost; ``dismissed`` lists the QA warning
codes a translator dismissed for the current text; ``words`` lets the queue count work
without reading every sentence; ``note`` on history holds a dismissal's reason or the
batch of a bulk approval (what undo reverts).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PAGE = 1000
TOKEN = re.compile(r"\{/?\d+\}")
WORD = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")

segments = sa.table(
    "segments",
    sa.column("id", sa.Integer),
    sa.column("source", sa.Text),
    sa.column("words", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("segments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_source", sa.Text, nullable=True))
        batch_op.add_column(sa.Column("previous_target", sa.Text, nullable=True))
        batch_op.add_column(sa.Column("dismissed", sa.JSON, nullable=True))
        batch_op.add_column(sa.Column("words", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("segment_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text, nullable=True))
    connection = op.get_bind()
    last = 0
    while True:
        page = connection.execute(
            sa.select(segments.c.id, segments.c.source)
            .where(segments.c.id > last)
            .order_by(segments.c.id)
            .limit(PAGE)
        ).all()
        if not page:
            break
        for segment_id, source in page:
            count = len(WORD.findall(TOKEN.sub(" ", source or "")))
            connection.execute(
                segments.update().where(segments.c.id == segment_id).values(words=count)
            )
        last = page[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("segment_history", schema=None) as batch_op:
        batch_op.drop_column("note")
    with op.batch_alter_table("segments", schema=None) as batch_op:
        for column in ("words", "dismissed", "previous_target", "previous_source"):
            batch_op.drop_column(column)
