"""Translation engine: segments, translation memory, glossary, jobs; variant engine.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('glossary_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_lang', sa.String(length=35), nullable=False),
    sa.Column('target_lang', sa.String(length=35), nullable=False),
    sa.Column('source_term', sa.String(length=200), nullable=False),
    sa.Column('source_key', sa.String(length=200), nullable=False),
    sa.Column('target_term', sa.String(length=200), nullable=False),
    sa.Column('do_not_translate', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_glossary_terms')),
    sa.UniqueConstraint('source_lang', 'target_lang', 'source_key', name=op.f('uq_glossary_terms_source_lang'))
    )
    op.create_table('translation_memory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_lang', sa.String(length=35), nullable=False),
    sa.Column('target_lang', sa.String(length=35), nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_memory')),
    sa.UniqueConstraint('source_lang', 'target_lang', 'source_hash', name=op.f('uq_translation_memory_source_lang'))
    )
    op.create_table('segments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=35), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('source_hash', sa.String(length=64), nullable=False),
    sa.Column('placeholders', sa.JSON(), nullable=False),
    sa.Column('target', sa.Text(), nullable=True),
    sa.Column('machine_target', sa.Text(), nullable=True),
    sa.Column('origin', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('engine', sa.String(length=200), nullable=True),
    sa.Column('model_runs', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_segments_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_segments')),
    sa.UniqueConstraint('article_id', 'lang', 'key', name=op.f('uq_segments_article_id'))
    )
    op.create_table('translation_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=35), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('run_after', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_translation_jobs_article_id_articles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_jobs')),
    sa.UniqueConstraint('article_id', 'lang', 'revision', name=op.f('uq_translation_jobs_article_id'))
    )
    with op.batch_alter_table('translation_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_translation_jobs_status_run_after', ['status', 'run_after'], unique=False)

    with op.batch_alter_table('article_variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('engine', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('article_variants', schema=None) as batch_op:
        batch_op.drop_column('engine')

    with op.batch_alter_table('translation_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_translation_jobs_status_run_after')

    op.drop_table('translation_jobs')
    op.drop_table('segments')
    op.drop_table('translation_memory')
    op.drop_table('glossary_terms')
