"""audit display names

The actor's name beside each audit subject (`created_by_name`, `decided_by_name`), recorded at
write time; rows written before stay null and are served with the subject's part after its
colon. A step's new status `cancelled` needs no change: statuses are stored as strings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMED_COLUMNS = [
    ('agent', 'created_by_name'),
    ('agent_version', 'created_by_name'),
    ('run', 'created_by_name'),
    ('api_key', 'created_by_name'),
    ('approval', 'decided_by_name'),
]


def upgrade() -> None:
    for table, column in NAMED_COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(column, sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
            )


def downgrade() -> None:
    for table, column in reversed(NAMED_COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
