"""teams: stored conversation references

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:31:41.944486
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teams_conversations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('team_id', sa.String(length=255), nullable=True),
    sa.Column('reference', sa.JSON(), nullable=False),
    sa.Column('updated_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_teams_conversations_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams_conversations')),
    sa.UniqueConstraint('workspace_id', 'kind', 'external_id', name='uq_teams_conversations_workspace_id_kind_external_id')
    )
    with op.batch_alter_table('teams_conversations', schema=None) as batch_op:
        batch_op.create_index('ix_teams_conversations_conversation_id', ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('teams_conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_teams_conversations_conversation_id')
    op.drop_table('teams_conversations')
