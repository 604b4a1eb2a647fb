"""Tables of the LLM feature: each workspace's switches and its daily token use."""

from __future__ import annotations

import sqlalchemy as sa

from core.persistence.tables import UTCDateTime, metadata

# One row once a workspace admin changed something; without a row the workspace uses the server's
# defaults: on when an endpoint is configured, the configured model, the default daily budget.
llm_settings = sa.Table(
    "llm_settings",
    metadata,
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("model", sa.String(255)),  # None: the server's UNMEET_LLM_MODEL
    sa.Column("daily_token_budget", sa.Integer),  # None: the server's default
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Tokens spent per workspace per UTC day (prompt + completion, as the endpoint reports them).
llm_usage = sa.Table(
    "llm_usage",
    metadata,
    sa.Column("workspace_id", sa.ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("calls", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tokens_in", sa.Integer, nullable=False, server_default="0"),
    sa.Column("tokens_out", sa.Integer, nullable=False, server_default="0"),
)
