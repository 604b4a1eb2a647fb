"""llm: workspace LLM switches and the daily token ledger

Revision ID: 0003
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('llm_settings',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('model', sa.String(length=255), nullable=True),
    sa.Column('daily_token_budget', sa.Integer(), nullable=True),
    sa.Column('updated_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_llm_settings_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_llm_settings'))
    )
    op.create_table('llm_usage',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('calls', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tokens_in', sa.Integer(), server_default='0', nullable=False),
    sa.Column('tokens_out', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_llm_usage_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', 'day', name=op.f('pk_llm_usage'))
    )


def downgrade() -> None:
    op.drop_table('llm_usage')
    op.drop_table('llm_settings')
