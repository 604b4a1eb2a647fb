"""Engine and transactions. Writes happen inside `Database.transaction()`, which rolls back unless the
block finishes; there is no other way to get a connection that writes."""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from core.config import async_database_url


def make_engine(url: str, **kwargs) -> AsyncEngine:
    url = async_database_url(url)
    # A failed statement's error leaves its parameters out: they hold what people wrote and encrypted
    # tokens, and errors end up in logs and in jobs' last_error.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


_holding_turn: contextvars.ContextVar[bool] = contextvars.ContextVar("holding_turn", default=False)


class Database:
    """On SQLite, the transactions of one process take turns (an asyncio lock, first come first
    served). SQLite lets one writer in at a time and makes the others wait in its busy handler, which
    sleeps and polls (1, 2, 5 … 100 ms): at 50 concurrent answers, that waiting — not the work — made
    the acknowledgements' tail seconds long, with the event loop idle. Other processes on the same
    file still meet the busy handler; PostgreSQL has real concurrency and no lock here."""

    def __init__(self, url: str, **engine_kwargs):
        self.url = async_database_url(url)
        self.engine = make_engine(self.url, **engine_kwargs)
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] | None = (
            weakref.WeakKeyDictionary() if self.url.startswith("sqlite") else None)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._turns is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        if _holding_turn.get():  # it would wait forever for the turn its own caller holds
            raise RuntimeError("a SQLite transaction opened inside another; pass the open connection instead")
        turn = self._turns.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with turn, self.engine.begin() as conn:
            token = _holding_turn.set(True)
            try:
                yield conn
            finally:
                _holding_turn.reset(token)

    async def dispose(self) -> None:
        await self.engine.dispose()


def upsert(conn: AsyncConnection, table: sa.Table):
    """The dialect's INSERT that supports ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
