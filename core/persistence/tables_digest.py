"""Tables of the digest feature: per-channel digest settings.

A channel's time zone and language live on `channels` (tz, locale) and a workspace's on
`workspaces`; this table only holds what the digest adds. No row means the defaults
(Friday 15:00, on). The weekly digests themselves need no table: each is one job row with the
unique key `digest:{channel}:{iso-week}`, which is what makes it happen once.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

channel_settings = sa.Table(
    "channel_settings",
    metadata,
    sa.Column("channel_id", sa.ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("digest_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("digest_weekday", sa.Integer, nullable=False, server_default="4"),
    sa.Column("digest_minute", sa.Integer, nullable=False, server_default="900"),  # minutes after midnight
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
