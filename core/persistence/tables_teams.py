"""Teams tables: where the bot can reach people and channels again, later, from any process.

Teams only lets a bot message a conversation it has a reference for (service URL, conversation id,
tenant, bot account). References come from activities (a mention in a channel, a message in a
1:1 chat, the app being installed in a team) or from creating a 1:1 chat; they are stored here so
a job worker in another process, or after a restart, can use them.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

# kind: "person" (the 1:1 chat with a member; external_id = the member's 29: id),
#       "channel" (a team channel; external_id = the channel's 19: id),
#       "team" (the team itself, for its roster; external_id = the team id, also its General channel id).
teams_conversations = sa.Table(
    "teams_conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),  # where messages go: a:…, 19:…
    sa.Column("team_id", sa.String(255)),  # for channels: the team whose roster is the audience
    sa.Column("aad_group_id", sa.String(64)),  # for teams: its Microsoft 365 group, which deep links name
    sa.Column("reference", sa.JSON, nullable=False),  # botbuilder ConversationReference, serialised
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("workspace_id", "kind", "external_id",
                        name="uq_teams_conversations_workspace_id_kind_external_id"),
    sa.Index("ix_teams_conversations_conversation_id", "conversation_id"),
)

# A message sent under a job's key (core's outbox), so that a job run again after its worker died mid-send
# can tell: no row, not sent; an activity id, sent; a row without one, the send began and nobody heard
# back, so it may have arrived (the Bot Connector can't be asked: it reads no conversation's history).
# One row per key, for the job's current generation (a re-armed job sends again); the row goes with its
# job (privacy sweep, erasure).
teams_sends = sa.Table(
    "teams_sends",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),  # jobs.key
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),  # jobs.generation at the send
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("conversation_id", sa.String(255), nullable=False),  # where it went: a:… (a DM), 19:…
    sa.Column("activity_id", sa.String(255)),  # Teams' id of the message, once Teams answered
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
)
