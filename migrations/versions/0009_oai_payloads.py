"""oai_payloads: records as written for OAI-PMH, kept between harvests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 08:40:00

A list page spent nearly all its time building records (read models, crosswalks); the provider
now keeps what it wrote per record and format and serves it while it is still exact
(repository/oai/payloads.py). The table is a cache: dropping it loses nothing.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import repository.models.base


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'oai_payloads',
        sa.Column('publication_id', sa.Integer(), nullable=False),
        sa.Column('metadata_prefix', sa.String(length=32), nullable=False),
        sa.Column('generation', sa.String(length=32), nullable=False),
        sa.Column('datestamp', repository.models.base.UTCDateTime(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=True),
        sa.Column('valid_until', sa.Date(), nullable=True),
        sa.Column('available', sa.Boolean(), nullable=False),
        sa.Column('swepub', sa.Boolean(), nullable=False),
        sa.Column('open_access', sa.Boolean(), nullable=False),
        sa.Column('unit_ids', sa.Text(), nullable=False),
        sa.Column('xml', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['publication_id'], ['publications.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('publication_id', 'metadata_prefix'),
    )


def downgrade() -> None:
    op.drop_table('oai_payloads')
