"""Tables for focus time, planned focus blocks, personal platform tokens and meeting checks."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

focus_sessions = sa.Table(
    "focus_sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("topic", sa.String(255), nullable=False, server_default=""),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),  # set when it ended (by itself, stopped or replaced)
    sa.Column("ended_by", sa.String(16)),  # "auto" | "stop" | "replaced"
    # The platform status/do-not-disturb was set for this session and must be cleared at its end.
    sa.Column("status_set", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_focus_sessions_member_started", "member_id", "started_at"),
)

focus_blocks = sa.Table(
    "focus_blocks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # planned | started | cancelled
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_focus_blocks_member_starts", "member_id", "starts_at"),
)

focus_goals = sa.Table(
    "focus_goals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    # NULL: the workspace's goal; else one person's own goal.
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE")),
    sa.Column("weekly_minutes", sa.Integer, nullable=False),
    sa.Column("scope", sa.String(160), nullable=False, unique=True),  # "w:{ws}" or "m:{member}": one row each
)

# A person's own platform token (Slack user token for status and do-not-disturb), encrypted at rest;
# with token rotation, its refresh token (encrypted) and when it expires (core.services.tokens).
user_tokens = sa.Table(
    "user_tokens",
    metadata,
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("token_encrypted", sa.Text, nullable=False),
    sa.Column("scopes", sa.String(255), nullable=False, server_default=""),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("refresh_token_encrypted", sa.Text),
    sa.Column("expires_at", UTCDateTime),
)

# One-time `state` values of the OAuth flows: the callback must bring one back. A focus "Connect"
# state names the person; an "Add to Slack" install state has none (member_id NULL).
oauth_states = sa.Table(
    "oauth_states",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE")),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

meeting_checks = sa.Table(
    "meeting_checks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("agenda", sa.Text, nullable=False),
    sa.Column("people", sa.Integer, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("frequency", sa.String(16), nullable=False),
    sa.Column("decider_known", sa.String(8), nullable=False),
    sa.Column("readable", sa.Boolean, nullable=False),
    sa.Column("verdict", sa.String(24), nullable=False),  # meet | meet_shorter_smaller | go_async
    sa.Column("person_hours", sa.Float, nullable=False),
    sa.Column("monthly_person_hours", sa.Float),
    sa.Column("converted_at", UTCDateTime),  # "Start an async round instead" was chosen
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_meeting_checks_workspace_created", "workspace_id", "created_at"),
)
