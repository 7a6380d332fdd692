"""collect: runs record the process doing them and its heartbeat

Revision ID: collect_0003
Revises: collect_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'collect_0003'
down_revision = 'collect_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('collect_run') as batch:
        batch.add_column(sa.Column('worker', sa.String(length=80), nullable=True))
        batch.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('collect_run') as batch:
        batch.drop_column('heartbeat_at')
        batch.drop_column('worker')
