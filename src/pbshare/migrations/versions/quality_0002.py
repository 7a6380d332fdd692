"""quality: quarantine rows resolved in the browser

Revision ID: quality_0002
Revises: quality_0001
Create Date: 2026-12-01 19:01:19.410156

A quarantined row fixed in the browser and loaded, or discarded, is kept as resolved: how, by whom, when.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'quality_0002'
down_revision = 'quality_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quality_quarantine', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('resolved_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('quality_quarantine', schema=None) as batch_op:
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('resolved_by')
        batch_op.drop_column('resolution')
