"""digest: per-channel digest settings

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-28 15:00:00
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0005'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_settings',
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('digest_enabled', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('digest_weekday', sa.Integer(), server_default='4', nullable=False),
    sa.Column('digest_minute', sa.Integer(), server_default='900', nullable=False),
    sa.Column('updated_at', core.persistence.tables.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_settings_channel_id_channels'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('channel_id', name=op.f('pk_channel_settings'))
    )


def downgrade() -> None:
    op.drop_table('channel_settings')
