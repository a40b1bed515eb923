"""harvest: covering indexes for the quality counts a run records when it ends

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 19:30:00

A run's last transaction counts the source's live records and their problems by institution
(quality_reports.snapshot). The record columns it needs come after the XML and JSON in each row,
so SQLite read every record whole: 4-6 s at 1,000,000 records. (source_id, deleted, institution,
accepted) answers the first count alone, and the problems' record index gains the code and the
severity so the second reads no problem row either: about 1.1 s together.
"""
from __future__ import annotations

from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('harvest_records', schema=None) as batch_op:
        batch_op.create_index('ix_harvest_records_source_live', ['source_id', 'deleted', 'institution', 'accepted'],
                              unique=False)
    with op.batch_alter_table('harvest_record_problems', schema=None) as batch_op:
        batch_op.create_index('ix_harvest_record_problems_record_code', ['record_id', 'code', 'severity'], unique=False)
        batch_op.drop_index('ix_harvest_record_problems_record_id')


def downgrade() -> None:
    with op.batch_alter_table('harvest_record_problems', schema=None) as batch_op:
        batch_op.create_index('ix_harvest_record_problems_record_id', ['record_id'], unique=False)
        batch_op.drop_index('ix_harvest_record_problems_record_code')
    with op.batch_alter_table('harvest_records', schema=None) as batch_op:
        batch_op.drop_index('ix_harvest_records_source_live')
