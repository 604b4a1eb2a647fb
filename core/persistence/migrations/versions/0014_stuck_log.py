"""stuck log: stuck_logs and stuck_entries

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stuck_logs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('action_id', sa.Integer(), nullable=True),
    sa.Column('days', sa.JSON(), nullable=False),
    sa.Column('tz', sa.String(length=64), nullable=True),
    sa.Column('starts_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('ends_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='running', nullable=False),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('closed_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.Column('adopted_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['action_id'], ['agreement_actions.id'], name=op.f('fk_stuck_logs_action_id_agreement_actions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_stuck_logs_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by'], ['members.id'], name=op.f('fk_stuck_logs_started_by_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_stuck_logs_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stuck_logs')),
    sa.UniqueConstraint('action_id', name=op.f('uq_stuck_logs_action_id'))
    )
    with op.batch_alter_table('stuck_logs', schema=None) as batch_op:
        batch_op.create_index('ux_stuck_logs_running', ['channel_id'], unique=True,
                              sqlite_where=sa.text("state = 'running'"),
                              postgresql_where=sa.text("state = 'running'"))
    op.create_table('stuck_entries',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('log_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('other', sa.String(length=100), nullable=True),
    sa.Column('knew', sa.String(length=16), nullable=False),
    sa.Column('waited', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['log_id'], ['stuck_logs.id'], name=op.f('fk_stuck_entries_log_id_stuck_logs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_stuck_entries_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stuck_entries'))
    )
    with op.batch_alter_table('stuck_entries', schema=None) as batch_op:
        batch_op.create_index('ix_stuck_entries_log_member', ['log_id', 'member_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stuck_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_stuck_entries_log_member')
    op.drop_table('stuck_entries')
    with op.batch_alter_table('stuck_logs', schema=None) as batch_op:
        batch_op.drop_index('ux_stuck_logs_running')
    op.drop_table('stuck_logs')
