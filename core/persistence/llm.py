"""Reads and writes for the LLM feature: workspace switches and the daily token ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.persistence.db import upsert
from core.persistence.tables_llm import llm_settings, llm_usage


@dataclass(frozen=True)
class StoredLlmSettings:
    enabled: bool
    model: str | None
    daily_token_budget: int | None


async def get_settings(conn: AsyncConnection, workspace_id: int) -> StoredLlmSettings | None:
    row = (await conn.execute(sa.select(llm_settings).where(llm_settings.c.workspace_id == workspace_id))).first()
    if row is None:
        return None
    return StoredLlmSettings(row.enabled, row.model, row.daily_token_budget)


async def save_settings(conn: AsyncConnection, workspace_id: int, value: StoredLlmSettings, now: datetime) -> None:
    values = dict(enabled=value.enabled, model=value.model, daily_token_budget=value.daily_token_budget,
                  updated_at=now)
    statement = upsert(conn, llm_settings).values(workspace_id=workspace_id, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["workspace_id"], set_=values))


async def tokens_used(conn: AsyncConnection, workspace_id: int, day: date) -> int:
    row = (await conn.execute(sa.select(llm_usage.c.tokens_in + llm_usage.c.tokens_out).where(
        llm_usage.c.workspace_id == workspace_id, llm_usage.c.day == day))).first()
    return int(row[0]) if row else 0


async def add_usage(conn: AsyncConnection, workspace_id: int, day: date, *, calls: int, tokens_in: int,
                    tokens_out: int) -> None:
    """Add to the day's ledger in one statement, so concurrent summaries never lose each other's counts."""
    statement = upsert(conn, llm_usage).values(workspace_id=workspace_id, day=day, calls=calls, tokens_in=tokens_in,
                                               tokens_out=tokens_out)
    await conn.execute(statement.on_conflict_do_update(
        index_elements=["workspace_id", "day"],
        set_={"calls": llm_usage.c.calls + statement.excluded.calls,
              "tokens_in": llm_usage.c.tokens_in + statement.excluded.tokens_in,
              "tokens_out": llm_usage.c.tokens_out + statement.excluded.tokens_out}))


async def latest_open_round(conn: AsyncConnection, author_id: int, channel_external_id: str | None) -> int | None:
    """The author's most recent open round (in that channel when given): what "summarise" means
    when typed as a command, without a round id."""
    from core.domain.rounds import RoundStatus
    from core.persistence.tables import channels, rounds

    query = (sa.select(rounds.c.id).join(channels, channels.c.id == rounds.c.channel_id)
             .where(rounds.c.author_id == author_id, rounds.c.status == RoundStatus.OPEN)
             .order_by(rounds.c.created_at.desc(), rounds.c.id.desc()).limit(1))
    if channel_external_id:
        query = query.where(channels.c.external_id == channel_external_id)
    return (await conn.execute(query)).scalar_one_or_none()


async def open_rounds_by(conn: AsyncConnection, author_id: int, now: datetime, *,
                         limit: int) -> list[tuple[int, str, datetime]]:
    """(id, title, deadline) of the rounds a person shared that are still open, soonest deadline first:
    where their home offers "Summarise now"."""
    from core.domain.rounds import RoundStatus
    from core.persistence.tables import rounds

    rows = await conn.execute(
        sa.select(rounds.c.id, rounds.c.title, rounds.c.deadline_at)
        .where(rounds.c.author_id == author_id, rounds.c.status == RoundStatus.OPEN, rounds.c.deadline_at > now)
        .order_by(rounds.c.deadline_at, rounds.c.id).limit(limit))
    return [(row.id, row.title, row.deadline_at) for row in rows]
