"""All SQL for renewing a stored platform token under a row lock (core.services.tokens): a workspace's
bot token (installations) and a person's own token (user_tokens) are both kept as an encrypted token,
an encrypted refresh token and an expiry, only under different column names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.persistence.tables_focus import user_tokens
from core.persistence.tables_installations import installations


@dataclass(frozen=True)
class Slot:
    """Where one kind of token is stored: the table, its key column and the three token columns."""

    table: sa.Table
    key: str
    token: str
    refresh_token: str
    expires_at: str


BOT = Slot(installations, "workspace_id", "bot_token_encrypted", "bot_refresh_token_encrypted", "bot_token_expires_at")
PERSONAL = Slot(user_tokens, "member_id", "token_encrypted", "refresh_token_encrypted", "expires_at")


@dataclass(frozen=True)
class StoredToken:
    token_encrypted: str
    refresh_token_encrypted: str | None  # None: the token never expires (no rotation)
    expires_at: datetime | None


async def read(conn: AsyncConnection, slot: Slot, key, *, lock: bool = False) -> StoredToken | None:
    """The stored token under `key` (a value or a scalar subquery). With `lock`, the row stays locked
    until the transaction ends, so one instance at a time renews it: `SELECT … FOR UPDATE` on
    PostgreSQL; SQLite has no row locks, so a write that changes nothing takes its one write lock first
    (another process's transaction waits at its own such write, then reads what this one committed)."""
    c = slot.table.c
    where = c[slot.key] == key
    if lock and conn.dialect.name == "sqlite":
        await conn.execute(sa.update(slot.table).where(where).values({slot.token: c[slot.token]}))
    query = sa.select(c[slot.token], c[slot.refresh_token], c[slot.expires_at]).where(where)
    row = (await conn.execute(query.with_for_update() if lock else query)).one_or_none()
    return None if row is None else StoredToken(*row)


async def write(conn: AsyncConnection, slot: Slot, key, stored: StoredToken) -> None:
    await conn.execute(sa.update(slot.table).where(slot.table.c[slot.key] == key).values({
        slot.token: stored.token_encrypted, slot.refresh_token: stored.refresh_token_encrypted,
        slot.expires_at: stored.expires_at}))
