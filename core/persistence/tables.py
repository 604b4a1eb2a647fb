"""The schema as SQLAlchemy Core tables. Alembic migrations are generated from and checked against it."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC — the same on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


workspaces = sa.Table(
    "workspaces",
    metadata,
    _id(),
    sa.Column("platform", sa.String(16), nullable=False),
    sa.Column("external_id", sa.String(128), nullable=False),
    sa.Column("name", sa.String(255), nullable=False, server_default=""),
    sa.Column("locale", sa.String(16)),
    sa.Column("tz", sa.String(64)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Set when the app was removed from the workspace, cleared when it is back: meanwhile no job of the
    # workspace runs (core/jobs cancels them), and the retention sweep deletes it once old enough.
    sa.Column("uninstalled_at", UTCDateTime),
    sa.UniqueConstraint("platform", "external_id", name="uq_workspaces_platform_external_id"),
)

members = sa.Table(
    "members",
    metadata,
    _id(),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("external_id", sa.String(128), nullable=False),
    sa.Column("name", sa.String(255), nullable=False, server_default=""),
    sa.Column("locale", sa.String(16)),
    sa.Column("tz", sa.String(64)),
    sa.Column("is_bot", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("unreachable", sa.String(255)),  # why we stopped messaging this person, if we did
    sa.Column("refreshed_at", UTCDateTime),
    sa.Column("home_opened_at", UTCDateTime),  # first opened their Home (Slack App Home): worth refreshing
    sa.UniqueConstraint("workspace_id", "external_id", name="uq_members_workspace_id_external_id"),
)

channels = sa.Table(
    "channels",
    metadata,
    _id(),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("external_id", sa.String(255), nullable=False),
    sa.Column("name", sa.String(255), nullable=False, server_default=""),
    sa.Column("locale", sa.String(16)),
    sa.Column("tz", sa.String(64)),
    sa.UniqueConstraint("workspace_id", "external_id", name="uq_channels_workspace_id_external_id"),
)

rounds = sa.Table(
    "rounds",
    metadata,
    _id(),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
    sa.Column("channel_id", sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("link", sa.Text, nullable=False, server_default=""),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("questions", sa.JSON, nullable=False),
    sa.Column("share_mode", sa.String(16), nullable=False),
    sa.Column("locale", sa.String(8), nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("deadline_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("post_conversation", sa.String(255)),
    sa.Column("post_id", sa.String(255)),
    sa.Column("asked", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_rounds_status_deadline", "status", "deadline_at"),
    sa.Index("ix_rounds_channel_created", "channel_id", "created_at"),
)

recipients = sa.Table(
    "recipients",
    metadata,
    sa.Column("round_id", sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("dm_conversation", sa.String(255)),
    sa.Column("dm_id", sa.String(255)),
    sa.Column("reminded_at", UTCDateTime),
    sa.Column("unreachable", sa.String(255)),
)

answers = sa.Table(
    "answers",
    metadata,
    _id(),
    sa.Column("round_id", sa.ForeignKey("rounds.id", ondelete="CASCADE"), nullable=False),
    sa.Column("member_id", sa.ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    sa.Column("texts", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("reply_conversation", sa.String(255)),
    sa.Column("reply_id", sa.String(255)),
    sa.UniqueConstraint("round_id", "member_id", name="uq_answers_round_id_member_id"),
)

summaries = sa.Table(
    "summaries",
    metadata,
    sa.Column("round_id", sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("headline", sa.Text, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("model", sa.String(255)),
    sa.Column("prompt_id", sa.String(255)),
    sa.Column("tokens_in", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tokens_out", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The outbox and every other piece of due work. One row per effect: `key` is unique, so a retry,
# a second worker or a second scheduler can never create or run the same effect twice.
jobs = sa.Table(
    "jobs",
    metadata,
    _id(),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("key", sa.String(255), nullable=False, unique=True),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE")),
    sa.Column("status", sa.String(16), nullable=False),  # pending | done | dead | cancelled
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_by", sa.String(64)),
    sa.Column("locked_until", UTCDateTime),
    # Set when a claim finds the previous holder's lease expired without an outcome (it crashed):
    # the effect may or may not have happened, so the handler asks the platform before sending again.
    sa.Column("recovered", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Index("ix_jobs_status_due", "status", "due_at"),
)

# Slack delivers an event again when it did not see our ack in time; the effect must happen once.
seen_events = sa.Table(
    "seen_events",
    metadata,
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("seen_at", UTCDateTime, nullable=False),
)
from core.persistence import tables_llm  # noqa: E402,F401
from core.persistence import tables_digest  # noqa: E402,F401
from core.persistence import tables_focus  # noqa: E402,F401
from core.persistence import tables_teams  # noqa: E402,F401
from core.persistence import tables_installations  # noqa: E402,F401
from core.persistence import tables_one_thing  # noqa: E402,F401
from core.persistence import tables_agreements  # noqa: E402,F401
from core.persistence import tables_stuck  # noqa: E402,F401
from core.persistence import tables_drivers_seat  # noqa: E402,F401
from core.persistence import tables_programmes  # noqa: E402,F401
