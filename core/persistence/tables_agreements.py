"""Tables for team agreements: the agreement of a channel, its principles, rules and actions (the
lead's working draft), every published version, and who was in the channel when it was published."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

agreements = sa.Table(
    "agreements",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False, unique=True),
    # The team's, not the lead's: erasing the lead empties this column (core.persistence.privacy.TEAM_OWNED).
    sa.Column("lead_id", sa.ForeignKey("members.id", ondelete="SET NULL")),
    sa.Column("version", sa.Integer, nullable=False, server_default="0"),  # last published; 0: never
    sa.Column("post_conversation", sa.String(255)),
    sa.Column("post_id", sa.String(255)),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("round_id", sa.ForeignKey("rounds.id", ondelete="SET NULL")),  # the questionnaire round
    sa.Column("draft", sa.JSON),  # the model's draft from the answers, lines with their sources
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("published_at", UTCDateTime),
)

agreement_principles = sa.Table(
    "agreement_principles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("agreement_id", sa.ForeignKey("agreements.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)

agreement_rules = sa.Table(
    "agreement_rules",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("agreement_id", sa.ForeignKey("agreements.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),  # core.domain.agreements.RuleKind
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("source", sa.String(32), nullable=False, server_default="form"),  # form | stuck_log | draft
)

agreement_actions = sa.Table(
    "agreement_actions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("agreement_id", sa.ForeignKey("agreements.id", ondelete="CASCADE"), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("owner_id", sa.ForeignKey("members.id", ondelete="CASCADE")),
    sa.Column("due_on", sa.Date),
    sa.Column("state", sa.String(16), nullable=False, server_default="open"),  # open | done | dropped
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

agreement_versions = sa.Table(
    "agreement_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("agreement_id", sa.ForeignKey("agreements.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content", sa.JSON, nullable=False),  # principles, rules, actions as published
    sa.Column("published_by", sa.ForeignKey("members.id", ondelete="SET NULL")),  # team-owned, see above
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("agreement_id", "version", name="uq_agreement_versions_agreement_id_version"),
)

# Who was in the channel at the last publish: whose /focus goal the team's focus rule sets.
agreement_members = sa.Table(
    "agreement_members",
    metadata,
    sa.Column("agreement_id", sa.ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
)
