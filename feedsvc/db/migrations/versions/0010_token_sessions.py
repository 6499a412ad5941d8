"""Tokens that expire, and review sessions that sign-out ends on the server.

``expires_at`` (optional) is when a token stops working in the API and on the review
screens; ``session_generation`` is copied into a review session's cookie at sign-in and
raised by sign-out, so a copy of the cookie taken before sign-out is refused afterwards.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer, nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
        batch_op.drop_column("expires_at")
