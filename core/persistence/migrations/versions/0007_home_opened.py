"""members.home_opened_at: who has opened their Home, so only their Home is refreshed when rounds change

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_opened_at', core.persistence.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('home_opened_at')
