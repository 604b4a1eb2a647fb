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
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_thread_engine(url: str) -> sa.Engine:
    """The same SQLite file through the standard library's driver, for work done in one piece in a thread."""
    engine = sa.create_engine(url.replace("sqlite+aiosqlite://", "sqlite://", 1), hide_parameters=True,
                              connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


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
        sqlite = self.url.startswith("sqlite")
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] | None = (
            weakref.WeakKeyDictionary() if sqlite else None)
        self._thread_engine = _sqlite_thread_engine(self.url) if sqlite else None
        self._together: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _GroupCommit] = weakref.WeakKeyDictionary()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        if self._turns is None:
            async with self.engine.begin() as conn:
                yield conn
            return
        async with self._turn(), self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """This process's turn to write to the SQLite file."""
        if _holding_turn.get():  # it would wait forever for the turn its own caller holds
            raise RuntimeError("a SQLite transaction opened inside another; pass the open connection instead")
        assert self._turns is not None
        async with self._turns.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
            token = _holding_turn.set(True)
            try:
                yield
            finally:
                _holding_turn.reset(token)

    async def insert_together(self, statement: sa.Insert, row: dict) -> None:
        """Insert one row, committed with the rows other callers hand in at the same moment: one
        transaction (an executemany per statement) for all of them — a group commit. Returns once the
        row is committed; raises what the transaction raised. For a request that must make something
        durable before it answers: 50 at once would otherwise queue for 50 transactions in turn."""
        loop = asyncio.get_running_loop()
        group = self._together.get(loop)
        if group is None:
            group = self._together[loop] = _GroupCommit(self)
        await group.add(statement, row)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._thread_engine is not None:
            self._thread_engine.dispose()


class _GroupCommit:
    """The rows waiting for the next transaction of `Database.insert_together`, on one event loop. One
    writer task at a time takes everything waiting, commits it, answers every caller, and goes on while
    more arrived during that commit."""

    def __init__(self, db: Database):
        self._db = db
        self._waiting: list[tuple[sa.Insert, dict, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def add(self, statement: sa.Insert, row: dict) -> None:
        committed = asyncio.get_running_loop().create_future()
        self._waiting.append((statement, row, committed))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        await asyncio.shield(committed)  # a caller that gives up doesn't take the others' commit with it

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                rows = [(statement, row) for statement, row, _ in batch]
                try:
                    await self._commit(rows)
                    errors: list[BaseException | None] = [None] * len(batch)
                except Exception as error:  # noqa: BLE001 - one bad row fails only its own caller:
                    errors = [error] if len(batch) == 1 else [await self._alone(row) for row in rows]
                for (*_, committed), error in zip(batch, errors):
                    if error is None:
                        committed.set_result(None)
                    else:
                        committed.set_exception(error)
        finally:
            self._writer = None

    async def _commit(self, rows: list[tuple[sa.Insert, dict]]) -> None:
        by_statement: dict[sa.Insert, list[dict]] = {}
        for statement, row in rows:
            by_statement.setdefault(statement, []).append(row)
        thread_engine = self._db._thread_engine
        if thread_engine is None:
            async with self._db.transaction() as conn:
                for statement, values in by_statement.items():
                    await conn.execute(statement, values)  # an executemany when there are several
            return

        # On SQLite, in one call in a thread: through aiosqlite each statement, the commit and the pool's
        # reset are a trip to its thread and back, and each return waits for a turn of the event loop,
        # which is busiest exactly when many answers arrive together.
        def commit() -> None:
            with thread_engine.begin() as conn:
                for statement, values in by_statement.items():
                    conn.execute(statement, values)

        async with self._db._turn():
            await asyncio.to_thread(commit)

    async def _alone(self, row: tuple[sa.Insert, dict]) -> BaseException | None:
        try:
            await self._commit([row])
        except Exception as error:  # noqa: BLE001 - handed to the caller
            return error
        return None


def upsert(conn: AsyncConnection, table: sa.Table):
    """The dialect's INSERT that supports ON CONFLICT (SQLite and PostgreSQL spell it the same)."""
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
