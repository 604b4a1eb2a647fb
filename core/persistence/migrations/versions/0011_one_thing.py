"""one_things: each person's current One Thing, its history and the answer to its check

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('one_things',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('shared', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('recorded_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('replaced_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.Column('check_answer', sa.String(length=16), nullable=True),
    sa.Column('check_note', sa.Text(), nullable=True),
    sa.Column('checked_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_one_things_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_one_things_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_one_things'))
    )
    with op.batch_alter_table('one_things', schema=None) as batch_op:
        batch_op.create_index('ix_one_things_member_recorded', ['member_id', 'recorded_at'], unique=False)
        batch_op.create_index('ux_one_things_current', ['member_id'], unique=True,
                              sqlite_where=sa.text('replaced_at IS NULL'),
                              postgresql_where=sa.text('replaced_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('one_things', schema=None) as batch_op:
        batch_op.drop_index('ux_one_things_current')
        batch_op.drop_index('ix_one_things_member_recorded')
    op.drop_table('one_things')
