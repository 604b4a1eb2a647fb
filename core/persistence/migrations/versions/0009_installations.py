"""installations: each workspace's bot from "Add to Slack"; install states share oauth_states (no person)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('installations',
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.String(length=64), nullable=True),
    sa.Column('app_id', sa.String(length=64), server_default='', nullable=False),
    sa.Column('bot_id', sa.String(length=64), server_default='', nullable=False),
    sa.Column('bot_user_id', sa.String(length=64), nullable=False),
    sa.Column('bot_token_encrypted', sa.Text(), nullable=False),
    sa.Column('bot_scopes', sa.Text(), server_default='', nullable=False),
    sa.Column('installer_id', sa.String(length=64), nullable=True),
    sa.Column('installed_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_installations_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('workspace_id', name=op.f('pk_installations'))
    )
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.alter_column('member_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM oauth_states WHERE member_id IS NULL")
    with op.batch_alter_table('oauth_states', schema=None) as batch_op:
        batch_op.alter_column('member_id', existing_type=sa.Integer(), nullable=False)
    op.drop_table('installations')
