"""focus: sessions, planned blocks, goals, personal tokens, OAuth states, meeting checks

Revision ID: 0004
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('focus_blocks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_focus_blocks_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_focus_blocks_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus_blocks'))
    )
    with op.batch_alter_table('focus_blocks', schema=None) as batch_op:
        batch_op.create_index('ix_focus_blocks_member_starts', ['member_id', 'starts_at'], unique=False)

    op.create_table('focus_goals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('weekly_minutes', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=160), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_focus_goals_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_focus_goals_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus_goals')),
    sa.UniqueConstraint('scope', name=op.f('uq_focus_goals_scope'))
    )
    op.create_table('focus_sessions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=255), server_default='', nullable=False),
    sa.Column('started_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('ends_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('ended_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.Column('ended_by', sa.String(length=16), nullable=True),
    sa.Column('status_set', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_focus_sessions_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_focus_sessions_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focus_sessions'))
    )
    with op.batch_alter_table('focus_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_focus_sessions_member_started', ['member_id', 'started_at'], unique=False)

    op.create_table('meeting_checks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('decider_known', sa.String(length=8), nullable=False),
    sa.Column('readable', sa.Boolean(), nullable=False),
    sa.Column('verdict', sa.String(length=24), nullable=False),
    sa.Column('person_hours', sa.Float(), nullable=False),
    sa.Column('monthly_person_hours', sa.Float(), nullable=True),
    sa.Column('converted_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_meeting_checks_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_meeting_checks_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_checks'))
    )
    with op.batch_alter_table('meeting_checks', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_checks_workspace_created', ['workspace_id', 'created_at'], unique=False)

    op.create_table('oauth_states',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_oauth_states_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_oauth_states'))
    )
    op.create_table('user_tokens',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('token_encrypted', sa.Text(), nullable=False),
    sa.Column('scopes', sa.String(length=255), server_default='', nullable=False),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_user_tokens_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_user_tokens'))
    )


def downgrade() -> None:
    op.drop_table('user_tokens')
    op.drop_table('oauth_states')
    with op.batch_alter_table('meeting_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_checks_workspace_created')

    op.drop_table('meeting_checks')
    with op.batch_alter_table('focus_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_focus_sessions_member_started')

    op.drop_table('focus_sessions')
    op.drop_table('focus_goals')
    with op.batch_alter_table('focus_blocks', schema=None) as batch_op:
        batch_op.drop_index('ix_focus_blocks_member_starts')

    op.drop_table('focus_blocks')
