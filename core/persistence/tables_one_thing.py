"""The One Thing: each person's current one (replaced_at NULL) and their history."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

one_things = sa.Table(
    "one_things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    # Listed in the weekly digest of the person's team(s) while it is their current One Thing.
    sa.Column("shared", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("replaced_at", UTCDateTime),  # NULL: the person's current One Thing
    sa.Column("check_answer", sa.String(16)),  # yes | partly | dropped, once they answered the check
    sa.Column("check_note", sa.Text),
    sa.Column("checked_at", UTCDateTime),
    sa.Index("ix_one_things_member_recorded", "member_id", "recorded_at"),
    # One current One Thing per person, even when two saves race.
    sa.Index("ux_one_things_current", "member_id", unique=True,
             sqlite_where=sa.text("replaced_at IS NULL"), postgresql_where=sa.text("replaced_at IS NULL")),
)
