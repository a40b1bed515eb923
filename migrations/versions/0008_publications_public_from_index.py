"""publications: an index on public_from, so OAI-PMH can count the records scheduled for later

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 14:52:00

OAI-PMH's completeListSize is the rows of a list less the hidden ones; records published but
public only from a later moment are found through this index instead of by reading every
published row (repository/oai/queries.py ``count``). Nearly every value is NULL, and the range
asked for (``public_from > now``) holds only the records still waiting.
"""
from __future__ import annotations

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index('ix_publications_public_from', ['public_from'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_public_from')
