"""security: API clients, their keys and the nonces seen

Revision ID: security_0002
Revises: security_0001
Create Date: 2026-11-26 14:25:41.211723
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'security_0002'
down_revision = 'security_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_nonce',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_nonce')),
    sa.UniqueConstraint('client_id', 'nonce', name=op.f('uq_api_nonce_client_id_nonce'))
    )
    with op.batch_alter_table('api_nonce', schema=None) as batch_op:
        batch_op.create_index('ix_api_nonce_client_seen', ['client_id', 'seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_api_nonce_expires_at'), ['expires_at'], unique=False)

    op.create_table('api_client',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('ip_allowlist', sa.JSON(), nullable=False),
    sa.Column('rate_limit_per_minute', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_api_client_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client'))
    )
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_client_unit_id'), ['unit_id'], unique=False)

    op.create_table('api_client_key',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=36), nullable=False),
    sa.Column('alg', sa.String(length=16), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=True),
    sa.Column('public_key_hex', sa.String(length=140), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['api_client.id'], name=op.f('fk_api_client_key_client_id_api_client'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_client_key'))
    )
    with op.batch_alter_table('api_client_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_client_key_client_id'), ['client_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_client_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_client_key_client_id'))
    op.drop_table('api_client_key')
    with op.batch_alter_table('api_client', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_client_unit_id'))
    op.drop_table('api_client')
    with op.batch_alter_table('api_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_nonce_expires_at'))
        batch_op.drop_index('ix_api_nonce_client_seen')
    op.drop_table('api_nonce')
