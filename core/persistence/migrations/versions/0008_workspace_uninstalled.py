"""workspaces.uninstalled_at: no job of a removed workspace runs; its data goes after the retention period

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uninstalled_at', core.persistence.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('uninstalled_at')
