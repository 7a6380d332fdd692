"""catalog: a consent recorded by the office on a unit's behalf is marked so, with its evidence

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-12-01 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'catalog_0002'
down_revision = 'catalog_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('catalog_consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('evidence', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('evidence_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('evidence_file', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('catalog_consent', schema=None) as batch_op:
        batch_op.drop_column('evidence_file')
        batch_op.drop_column('evidence_name')
        batch_op.drop_column('evidence')
        batch_op.drop_column('on_behalf')
