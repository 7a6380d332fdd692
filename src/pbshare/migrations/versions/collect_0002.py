"""collect: runs count exact duplicates and skipped rows, and keep counts by kind and reason

Revision ID: collect_0002
Revises: collect_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'collect_0002'
down_revision = 'collect_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('collect_run') as batch:
        batch.add_column(sa.Column('rows_duplicate', sa.BigInteger(), server_default='0', nullable=False))
        batch.add_column(sa.Column('rows_skipped', sa.BigInteger(), server_default='0', nullable=False))
        batch.add_column(sa.Column('counts', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('content_hash', sa.String(length=64), nullable=True))
        batch.create_index(batch.f('ix_collect_run_content_hash'), ['content_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('collect_run') as batch:
        batch.drop_index(batch.f('ix_collect_run_content_hash'))
        batch.drop_column('content_hash')
        batch.drop_column('counts')
        batch.drop_column('rows_skipped')
        batch.drop_column('rows_duplicate')
