"""Programmes (a coach's trajectory for a cohort: sessions, assignments between them, participants) and
completions (a feature's "done" for a person and a kind, which programmes read)."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

# What people did, as the features announce it (core.services.completions): one row per person, kind
# and thing done (`ref`: the One Thing's, run's, round's or agreement's id), whoever reads it.
completions = sa.Table(
    "completions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("ref", sa.String(64), nullable=False, server_default=""),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("member_id", "kind", "ref"),
)

programmes = sa.Table(
    "programmes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    # The coach's work: erased with them. Every coach action checks this column.
    sa.Column("coach_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", sa.ForeignKey("channels.id", ondelete="SET NULL")),  # the cohort's channel
    sa.Column("name", sa.String(150), nullable=False),
    sa.Column("template", sa.String(200), nullable=False),  # the template's id, e.g. trajectory/v1
    sa.Column("locale", sa.String(8), nullable=False),  # the coach's language when it was set up
    sa.Column("copied_from", sa.ForeignKey("programmes.id", ondelete="SET NULL")),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

programme_sessions = sa.Table(
    "programme_sessions",
    metadata,
    sa.Column("programme_id", sa.ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),  # 1, 2, 3
    sa.Column("starts_at", UTCDateTime, nullable=False),
)

programme_assignments = sa.Table(
    "programme_assignments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("programme_id", sa.ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),  # the completion kind that marks it done
    sa.Column("title", sa.String(300), nullable=False),  # as the coach wrote it
    # The template's title in every language, while the coach kept its wording: each person reads their own.
    sa.Column("titles", sa.JSON),
    sa.Column("how", sa.JSON, nullable=False),  # the template's one sentence of how, per language
    sa.Column("start", sa.String(64)),  # the action id of the button that starts it
    sa.Column("opens_after", sa.Integer, nullable=False),
    sa.Column("due_before", sa.Integer, nullable=False),
    sa.UniqueConstraint("programme_id", "position"),
)

programme_participants = sa.Table(
    "programme_participants",
    metadata,
    sa.Column("programme_id", sa.ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("joined_at", UTCDateTime, nullable=False),
    # The coach took them out: no more DMs, not in the overview, and a re-read of the channel leaves them out.
    sa.Column("removed_at", UTCDateTime),
)
