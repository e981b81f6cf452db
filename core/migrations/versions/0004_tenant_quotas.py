"""tenant quotas and event stream leases

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql
import core.models.common

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quotas', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='{}', nullable=False))

    op.create_table('event_stream_lease',
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('expires_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('event_stream_lease', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_stream_lease_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_stream_lease_tenant_id'), ['tenant_id'], unique=False)

    # Daily usage sums a tenant's steps since midnight.
    with op.batch_alter_table('run_step', schema=None) as batch_op:
        batch_op.create_index('ix_run_step_tenant_started', ['tenant_id', 'started_at'], unique=False)
    # Quotas count a tenant's runs created in the last minute.
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.create_index('ix_run_tenant_created', ['tenant_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_index('ix_run_tenant_created')
    with op.batch_alter_table('run_step', schema=None) as batch_op:
        batch_op.drop_index('ix_run_step_tenant_started')
    with op.batch_alter_table('event_stream_lease', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_stream_lease_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_event_stream_lease_expires_at'))

    op.drop_table('event_stream_lease')
    with op.batch_alter_table('tenant', schema=None) as batch_op:
        batch_op.drop_column('quotas')
