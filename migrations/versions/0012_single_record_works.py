"""harvest: a work of one record stores no copy of it (harvest_works.merged NULL)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 13:50:00

Most works are one record (the 1,000,000-record benchmark harvest makes 807,299 works, at least
three in four of them single), and each stored a full copy of that record's JSON (about 1.6 KB)
as its merged record: the largest part of what every re-clustering wrote. The model reads
``Work.merged_record``, the stored merged record or else the master record's own JSON. The
upgrade drops the existing copies; the downgrade writes them back.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('harvest_works', schema=None) as batch_op:
        batch_op.alter_column('merged', existing_type=sa.JSON(), nullable=True)
    op.execute("UPDATE harvest_works SET merged = NULL WHERE record_count = 1")


def downgrade() -> None:
    # '{}' where the master is gone (records are never deleted today): shown as "cannot be read back".
    op.execute("UPDATE harvest_works SET merged = COALESCE((SELECT r.record FROM harvest_records r "
               "WHERE r.id = harvest_works.master_record_id), '{}') WHERE merged IS NULL")
    with op.batch_alter_table('harvest_works', schema=None) as batch_op:
        batch_op.alter_column('merged', existing_type=sa.JSON(), nullable=False)
