"""teams_sends: messages sent on Teams under a job's key, so a job run again after a crash mid-send
doesn't send a DM twice

Revision ID: 0018
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('teams_sends',
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('generation', sa.Integer(), server_default='0', nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('activity_id', sa.String(length=255), nullable=True),
    sa.Column('started_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('sent_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_teams_sends_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_teams_sends'))
    )


def downgrade() -> None:
    op.drop_table('teams_sends')
