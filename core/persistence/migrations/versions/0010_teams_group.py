"""teams_conversations.aad_group_id: a team's Microsoft 365 group, which deep links to its messages name

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('teams_conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('aad_group_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('teams_conversations', schema=None) as batch_op:
        batch_op.drop_column('aad_group_id')
