"""Neutral references to things that live on a chat platform."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkspaceRef:
    platform: str  # "slack" | "teams"
    id: str  # Slack team id, Teams tenant id


@dataclass(frozen=True)
class ChannelRef:
    workspace: WorkspaceRef
    id: str  # Slack channel id, Teams channel conversation id


@dataclass(frozen=True)
class PersonRef:
    workspace: WorkspaceRef
    id: str  # Slack user id, Teams user id (29:…)


@dataclass(frozen=True)
class Posted:
    """Where a message landed: the conversation and the message id (Slack ts, Teams activity id)."""

    conversation: str
    id: str
