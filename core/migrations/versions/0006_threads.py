"""threads

Conversations that continue across runs: the `thread` table, and on each run the thread it
continues (`thread_id`, deleted with its thread) and whether a `rollback` took its messages out
of the conversation (`rolled_back`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 06:47:14.693932
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import core.models.common

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
RUN_THREAD_FK = 'fk_run_thread_id_thread'


def upgrade() -> None:
    op.create_table(
        'thread',
        sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('agent_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('metadata', JSON, nullable=False),
        sa.Column('ttl_seconds', sa.Integer(), nullable=True),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column('created_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_run_at', core.models.common.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_thread_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thread_id', sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column('rolled_back', sa.Boolean(), server_default='0', nullable=False)
        )
        batch_op.create_index(batch_op.f('ix_run_thread_id'), ['thread_id'], unique=False)
        batch_op.create_foreign_key(
            RUN_THREAD_FK, 'thread', ['thread_id'], ['id'], ondelete='CASCADE'
        )


def downgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_constraint(RUN_THREAD_FK, type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_run_thread_id'))
        batch_op.drop_column('rolled_back')
        batch_op.drop_column('thread_id')

    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_thread_agent_id'))

    op.drop_table('thread')
