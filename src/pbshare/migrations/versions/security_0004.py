"""security: audit_refusal_tally, where repeats of one refusal within a minute are counted

Revision ID: security_0004
Revises: security_0003
Create Date: 2026-12-01 16:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'security_0004'
down_revision = 'security_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_refusal_tally',
    sa.Column('bucket', sa.String(length=64), nullable=False),
    sa.Column('minute', sa.DateTime(timezone=True), nullable=False),
    sa.Column('record_seq', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', name=op.f('pk_audit_refusal_tally'))
    )
    with op.batch_alter_table('audit_refusal_tally', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_refusal_tally_minute'), ['minute'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_refusal_tally_record_seq'), ['record_seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_refusal_tally', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_refusal_tally_record_seq'))
        batch_op.drop_index(batch_op.f('ix_audit_refusal_tally_minute'))
    op.drop_table('audit_refusal_tally')
