"""harvest: records awaiting deduplication in a narrow queue (harvest_dedup_pending), not a flag on each record

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 14:10:00

A refresh after a large harvest cleared the flag of every record it took in, and setting a column
rewrote each wide record row (XML, JSON, features): 17-20 s of a 1,000,000-record refresh on
SQLite. Queue entries are a row of two integers each, and a refresh deletes the ones it read by
id ranges, so an entry queued meanwhile by another harvest stays. Flagged records move to the
queue; the downgrade flags the queued ones again.
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('harvest_dedup_pending',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['harvest_records.id'], name=op.f('fk_harvest_dedup_pending_record_id_harvest_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_harvest_dedup_pending'))
    )
    with op.batch_alter_table('harvest_dedup_pending', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_harvest_dedup_pending_record_id'), ['record_id'], unique=False)

    op.execute(sa.text("INSERT INTO harvest_dedup_pending (record_id) SELECT id FROM harvest_records "
                       "WHERE needs_dedup = :yes ORDER BY id").bindparams(yes=True))
    with op.batch_alter_table('harvest_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_harvest_records_needs_dedup'))
        batch_op.drop_column('needs_dedup')


def downgrade() -> None:
    with op.batch_alter_table('harvest_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_dedup', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_harvest_records_needs_dedup'), ['needs_dedup'], unique=False)
    op.execute(sa.text("UPDATE harvest_records SET needs_dedup = :yes WHERE id IN "
                       "(SELECT record_id FROM harvest_dedup_pending)").bindparams(yes=True))

    with op.batch_alter_table('harvest_dedup_pending', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_harvest_dedup_pending_record_id'))
    op.drop_table('harvest_dedup_pending')
