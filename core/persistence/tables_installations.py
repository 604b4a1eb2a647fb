"""The app's installations: the bot of each workspace that added the app through "Add to Slack"
(OAuth v2), when one process serves many workspaces instead of one SLACK_BOT_TOKEN."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

# One row per installed workspace (a reinstall replaces it). The bot token is encrypted at rest like
# people's own tokens (user_tokens); the row is deleted when the workspace removes the app. With token
# rotation on in the Slack app the token expires (12 h) and comes with a refresh token, encrypted too
# (core.services.tokens); without rotation both stay NULL and the token never expires.
installations = sa.Table(
    "installations",
    metadata,
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("enterprise_id", sa.String(64)),  # the Enterprise Grid org the workspace belongs to, if any
    sa.Column("app_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("bot_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("bot_user_id", sa.String(64), nullable=False),
    sa.Column("bot_token_encrypted", sa.Text, nullable=False),
    sa.Column("bot_refresh_token_encrypted", sa.Text),
    sa.Column("bot_token_expires_at", UTCDateTime),
    sa.Column("bot_scopes", sa.Text, nullable=False, server_default=""),
    sa.Column("installer_id", sa.String(64)),  # the person who installed it
    sa.Column("installed_at", UTCDateTime, nullable=False),
)
