"""Download events: one row per counted download of a stored file (for per-file usage counts).

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-24 10:39:41.754466
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import harvest.models
import repository.models.base


revision = '0003'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('download_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('at', repository.models.base.UTCDateTime(), nullable=False),
    sa.Column('client_key', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_download_events_file_id_files'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], name=op.f('fk_download_events_publication_id_publications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_download_events'))
    )
    with op.batch_alter_table('download_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_download_events_at'), ['at'], unique=False)
        batch_op.create_index('ix_download_events_file_client_at', ['file_id', 'client_key', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_download_events_publication_id'), ['publication_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('download_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_download_events_publication_id'))
        batch_op.drop_index('ix_download_events_file_client_at')
        batch_op.drop_index(batch_op.f('ix_download_events_at'))

    op.drop_table('download_events')
