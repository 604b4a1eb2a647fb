"""The stuck log: a channel's log of N working days and the stuck moments people record in it."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

stuck_logs = sa.Table(
    "stuck_logs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    # The team's, not the starter's: erasing them empties this column (core.persistence.privacy.TEAM_OWNED).
    sa.Column("started_by", sa.ForeignKey("members.id", ondelete="SET NULL")),
    # The agreement's action "keep a stuck log" that started it: one log per action, however often it is published.
    sa.Column("action_id", sa.ForeignKey("agreement_actions.id", ondelete="SET NULL"), unique=True),
    sa.Column("days", sa.JSON, nullable=False),  # the log's working days, ISO dates
    sa.Column("tz", sa.String(64)),  # the starter's zone: the days and the report's time are in it
    sa.Column("starts_at", UTCDateTime, nullable=False),
    sa.Column("ends_at", UTCDateTime, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default="running"),  # running | closed
    sa.Column("report", sa.JSON),  # the team-level figures and proposal, once closed (counts only)
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("adopted_at", UTCDateTime),  # when its proposal went into the agreement's draft (once)
    # One running log per channel, even when two starts race.
    sa.Index("ux_stuck_logs_running", "channel_id", unique=True,
             sqlite_where=sa.text("state = 'running'"), postgresql_where=sa.text("state = 'running'")),
)

stuck_entries = sa.Table(
    "stuck_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("log_id", sa.ForeignKey("stuck_logs.id", ondelete="CASCADE"), nullable=False),
    # The writer's alone: only they see the text; erased with them.
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("what", sa.Text, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("other", sa.String(100)),
    sa.Column("knew", sa.String(16), nullable=False),
    sa.Column("waited", sa.String(16), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index("ix_stuck_entries_log_member", "log_id", "member_id"),
)
