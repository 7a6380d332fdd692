"""quality rules: rule sets per catalog resource or import profile, and their rules

Revision ID: qrules_0001
Revises: 0001_foundation
Create Date: 2026-12-01 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'qrules_0001'
down_revision = '0001_foundation'
branch_labels = ('qrules',)
depends_on = None


def upgrade() -> None:
    op.create_table('quality_rule_set',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('resource_code', sa.String(length=32), nullable=True),
    sa.Column('profile_id', sa.String(length=36), nullable=True),
    sa.Column('updated_by', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_rule_set'))
    )
    with op.batch_alter_table('quality_rule_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_rule_set_profile_id'), ['profile_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_quality_rule_set_resource_code'), ['resource_code'], unique=True)

    op.create_table('quality_rule',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('set_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('dimension', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['set_id'], ['quality_rule_set.id'], name=op.f('fk_quality_rule_set_id_quality_rule_set'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_rule'))
    )
    with op.batch_alter_table('quality_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_rule_set_id'), ['set_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('quality_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_rule_set_id'))
    op.drop_table('quality_rule')
    with op.batch_alter_table('quality_rule_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_rule_set_resource_code'))
        batch_op.drop_index(batch_op.f('ix_quality_rule_set_profile_id'))
    op.drop_table('quality_rule_set')
