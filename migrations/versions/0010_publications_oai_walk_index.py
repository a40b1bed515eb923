"""publications and oai_payloads: indexes that carry what an OAI-PMH page reads

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:20:00

A ListIdentifiers or ListRecords page walks the records in (datestamp, id) order and needs each
row's state, public_from and published_at (visibility) and its type, content type and
institution (the header's sets). With those in the index the walk reads no table rows: at
1,000,000 records the 251 rows of a page were 251 scattered table look-ups. It replaces
ix_publications_datestamp_id, whose columns lead it. Likewise ix_oai_payloads_facts holds what a
header needs from a kept copy, so ListIdentifiers reads no payloads.
"""
from __future__ import annotations

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

COLUMNS = ['datestamp', 'id', 'state', 'publication_type', 'content_type', 'institution_id', 'public_from',
           'published_at']
FACTS = ['publication_id', 'metadata_prefix', 'generation', 'datestamp', 'valid_from', 'valid_until', 'available',
         'swepub', 'open_access', 'unit_ids']


def upgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index('ix_publications_oai_walk', COLUMNS, unique=False)
        batch_op.drop_index('ix_publications_datestamp_id')
    op.create_index('ix_oai_payloads_facts', 'oai_payloads', FACTS, unique=False)


def downgrade() -> None:
    op.drop_index('ix_oai_payloads_facts', table_name='oai_payloads')
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index('ix_publications_datestamp_id', ['datestamp', 'id'], unique=False)
        batch_op.drop_index('ix_publications_oai_walk')
