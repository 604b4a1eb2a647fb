"""programmes: programmes, their sessions, assignments and participants; completions

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('completions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('ref', sa.String(length=64), server_default='', nullable=False),
    sa.Column('at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_completions_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_completions_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completions')),
    sa.UniqueConstraint('member_id', 'kind', 'ref', name=op.f('uq_completions_member_id'))
    )
    op.create_table('programmes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=150), nullable=False),
    sa.Column('template', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('copied_from', sa.Integer(), nullable=True),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_programmes_channel_id_channels'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['coach_id'], ['members.id'], name=op.f('fk_programmes_coach_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['copied_from'], ['programmes.id'], name=op.f('fk_programmes_copied_from_programmes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_programmes_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programmes'))
    )
    op.create_table('programme_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=True),
    sa.Column('how', sa.JSON(), nullable=False),
    sa.Column('start', sa.String(length=64), nullable=True),
    sa.Column('opens_after', sa.Integer(), nullable=False),
    sa.Column('due_before', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_assignments_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_assignments')),
    sa.UniqueConstraint('programme_id', 'position', name=op.f('uq_programme_assignments_programme_id'))
    )
    op.create_table('programme_participants',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('removed_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_programme_participants_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_participants_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'member_id', name=op.f('pk_programme_participants'))
    )
    op.create_table('programme_sessions',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('starts_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_sessions_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'number', name=op.f('pk_programme_sessions'))
    )


def downgrade() -> None:
    op.drop_table('programme_sessions')
    op.drop_table('programme_participants')
    op.drop_table('programme_assignments')
    op.drop_table('programmes')
    op.drop_table('completions')
