"""jobs: a run step's progress while it runs and the summary of what it found

Revision ID: jobs_0002
Revises: jobs_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'jobs_0002'
down_revision = 'jobs_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs_run_step') as batch:
        batch.add_column(sa.Column('progress_done', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('progress_total', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('progress_unit', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('summary', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs_run_step') as batch:
        batch.drop_column('summary')
        batch.drop_column('progress_unit')
        batch.drop_column('progress_total')
        batch.drop_column('progress_done')
