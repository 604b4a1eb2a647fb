"""token rotation: a refresh token and an expiry beside each stored Slack token (bot and personal)

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa
import core.persistence.tables


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('installations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bot_refresh_token_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('bot_token_expires_at', core.persistence.tables.UTCDateTime(), nullable=True))
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refresh_token_encrypted', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', core.persistence.tables.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('refresh_token_encrypted')
    with op.batch_alter_table('installations', schema=None) as batch_op:
        batch_op.drop_column('bot_token_expires_at')
        batch_op.drop_column('bot_refresh_token_encrypted')
