"""The Driver's Seat: a person's runs, each counted day's three tasks and their ratings, who the run is
shared with (a coach) and the coach's feedback."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

seat_runs = sa.Table(
    "seat_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("days", sa.Integer, nullable=False),  # counted working days
    sa.Column("first_day", sa.Date, nullable=False),  # in the person's zone
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),  # NULL: the person's current run
    sa.Column("end_reason", sa.String(16)),  # finished | stopped
    sa.Index("ix_seat_runs_member_started", "member_id", "started_at"),
    sa.Index("ux_seat_runs_current", "member_id", unique=True,
             sqlite_where=sa.text("ended_at IS NULL"), postgresql_where=sa.text("ended_at IS NULL")),
)

# One row per day of a run the person planned, rated or skipped. `tasks`: three
# {"kind", "text", "rating", "why"} in the form's order; rating and why empty until the evening.
seat_days = sa.Table(
    "seat_days",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.ForeignKey("seat_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("skipped", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("tasks", sa.JSON),
    sa.Column("planned_at", UTCDateTime),
    sa.Column("rated_at", UTCDateTime),
    sa.UniqueConstraint("run_id", "day", name="uq_seat_days_run_day"),
)

# Who sees a run: one coach at a time (revoked_at NULL), earlier shares kept for what they were sent.
seat_shares = sa.Table(
    "seat_shares",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.ForeignKey("seat_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("coach_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("shared_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Index("ux_seat_shares_current", "run_id", unique=True,
             sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL")),
)

# What a coach sent a participant about a run (the coach's words; they go with the run or the coach).
seat_feedback = sa.Table(
    "seat_feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.ForeignKey("seat_runs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("coach_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=False),
)
