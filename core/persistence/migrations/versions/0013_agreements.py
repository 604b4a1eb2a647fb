"""agreements: agreements, principles, rules, actions, versions, members

Revision ID: 0013
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agreements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('post_conversation', sa.String(length=255), nullable=True),
    sa.Column('post_id', sa.String(length=255), nullable=True),
    sa.Column('pinned', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('draft', sa.JSON(), nullable=True),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('published_at', core.persistence.tables.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_agreements_channel_id_channels'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['members.id'], name=op.f('fk_agreements_lead_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_agreements_round_id_rounds'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_agreements_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('channel_id', name=op.f('uq_agreements_channel_id'))
    )
    op.create_table('agreement_actions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('created_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.Column('updated_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_actions_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_agreement_actions_owner_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_actions'))
    )
    op.create_table('agreement_members',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_members_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_agreement_members_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('agreement_id', 'member_id', name=op.f('pk_agreement_members'))
    )
    op.create_table('agreement_principles',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_principles_agreement_id_agreements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_principles'))
    )
    op.create_table('agreement_rules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('text', sa.Text(), server_default='', nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=32), server_default='form', nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_rules_agreement_id_agreements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_rules'))
    )
    op.create_table('agreement_versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('published_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_versions_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by'], ['members.id'], name=op.f('fk_agreement_versions_published_by_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_versions')),
    sa.UniqueConstraint('agreement_id', 'version', name='uq_agreement_versions_agreement_id_version')
    )


def downgrade() -> None:
    op.drop_table('agreement_versions')
    op.drop_table('agreement_rules')
    op.drop_table('agreement_principles')
    op.drop_table('agreement_members')
    op.drop_table('agreement_actions')
    op.drop_table('agreements')
