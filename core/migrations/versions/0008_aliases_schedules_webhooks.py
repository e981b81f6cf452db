"""aliases, schedules and webhooks

Release aliases of agents and every move of them (`agent_alias`, `agent_alias_move`); schedules
(`schedule`, the tenant's record of the engine's Schedules); webhooks and the outbox of their
deliveries (`webhook`, `webhook_delivery`). On each run the alias it was started through, the
schedule that fired it and its own webhook URL; on each step the build of the worker that ran it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:42:03.122066
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

import core.models.common

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('agent_alias',
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('targets', JSON, nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('updated_by_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agent_id', 'name', name='uq_agent_alias_name')
    )
    with op.batch_alter_table('agent_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_alias_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_alias_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('agent_alias_move',
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('from_targets', JSON, nullable=False),
    sa.Column('to_targets', JSON, nullable=False),
    sa.Column('moved_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('moved_by_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('moved_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agent_alias_move', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_alias_move_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_alias_move_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('schedule',
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('input', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('context', JSON, nullable=False),
    sa.Column('run_metadata', JSON, nullable=False),
    sa.Column('cron', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('interval_seconds', sa.Integer(), nullable=True),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('overlap', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('catchup_window_seconds', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('start_at', core.models.common.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_at', core.models.common.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_schedule_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('webhook',
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('events', JSON, nullable=False),
    sa.Column('agent_id', sa.String(length=40), nullable=True),
    sa.Column('secret_encrypted', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('webhook_delivery',
    sa.Column('tenant_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('webhook_id', sa.String(length=40), nullable=True),
    sa.Column('run_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('payload', JSON, nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('next_attempt_at', core.models.common.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.common.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', core.models.common.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenant.id'], ),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_delivery_webhook_id'), ['webhook_id'], unique=False)

    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version_alias', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('schedule_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.add_column(sa.Column('webhook_url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.create_index(batch_op.f('ix_run_schedule_id'), ['schedule_id'], unique=False)

    with op.batch_alter_table('run_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('worker_build', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('run_step', schema=None) as batch_op:
        batch_op.drop_column('worker_build')

    with op.batch_alter_table('run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_run_schedule_id'))
        batch_op.drop_column('webhook_url')
        batch_op.drop_column('schedule_id')
        batch_op.drop_column('version_alias')

    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_webhook_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_run_id'))
        batch_op.drop_index('ix_webhook_delivery_due')

    op.drop_table('webhook_delivery')
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_agent_id'))

    op.drop_table('webhook')
    with op.batch_alter_table('schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_schedule_agent_id'))

    op.drop_table('schedule')
    with op.batch_alter_table('agent_alias_move', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_alias_move_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_agent_alias_move_agent_id'))

    op.drop_table('agent_alias_move')
    with op.batch_alter_table('agent_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_alias_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_agent_alias_agent_id'))

    op.drop_table('agent_alias')
