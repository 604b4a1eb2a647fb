"""drivers seat: runs, their days' tasks and ratings, shares with a coach, the coach's feedback

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seat_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('started_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('ended_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_seat_runs_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_seat_runs_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_runs'))
    )
    with op.batch_alter_table('seat_runs', schema=None) as batch_op:
        batch_op.create_index('ix_seat_runs_member_started', ['member_id', 'started_at'], unique=False)
        batch_op.create_index('ux_seat_runs_current', ['member_id'], unique=True,
                              sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
    op.create_table('seat_days',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('skipped', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('tasks', sa.JSON(), nullable=True),
    sa.Column('planned_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.Column('rated_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_seat_days_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['seat_runs.id'], name=op.f('fk_seat_days_run_id_seat_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_days')),
    sa.UniqueConstraint('run_id', 'day', name='uq_seat_days_run_day')
    )
    op.create_table('seat_shares',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('shared_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['coach_id'], ['members.id'], name=op.f('fk_seat_shares_coach_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['seat_runs.id'], name=op.f('fk_seat_shares_run_id_seat_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_shares'))
    )
    with op.batch_alter_table('seat_shares', schema=None) as batch_op:
        batch_op.create_index('ux_seat_shares_current', ['run_id'], unique=True,
                              sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
    op.create_table('seat_feedback',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sent_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['coach_id'], ['members.id'], name=op.f('fk_seat_feedback_coach_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['seat_runs.id'], name=op.f('fk_seat_feedback_run_id_seat_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seat_feedback'))
    )


def downgrade() -> None:
    op.drop_table('seat_feedback')
    with op.batch_alter_table('seat_shares', schema=None) as batch_op:
        batch_op.drop_index('ux_seat_shares_current')
    op.drop_table('seat_shares')
    op.drop_table('seat_days')
    with op.batch_alter_table('seat_runs', schema=None) as batch_op:
        batch_op.drop_index('ux_seat_runs_current')
        batch_op.drop_index('ix_seat_runs_member_started')
    op.drop_table('seat_runs')
