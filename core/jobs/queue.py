"""The durable job queue (the outbox): SQL for enqueueing, claiming with a lease, and finishing.

A job row is written in the same transaction as the domain change that calls for it. Its `key`
names the effect (`dm:{round}:{member}`), so the same effect is never queued twice. Workers claim
due rows with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers), renew
the lease while working, and mark the row done, retried or dead.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.persistence.db import Database
from core.persistence.tables import jobs, workspaces

PENDING, DONE, DEAD, CANCELLED = "pending", "done", "dead", "cancelled"


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    key: str
    payload: dict
    attempts: int
    generation: int
    workspace_id: int | None
    recovered: bool = False  # the last holder died mid-way: the effect may already have happened
    due_at: datetime | None = None  # when it was due (this run's lag is measured from it)


async def enqueue(
    conn: AsyncConnection,
    kind: str,
    key: str,
    payload: dict,
    *,
    due_at: datetime,
    now: datetime,
    workspace_id: int | None = None,
    rearm: bool = False,
) -> None:
    """Queue an effect once. With `rearm`, an effect that already ran is queued again (and one that is
    running will run once more afterwards): used when the thing it delivers has changed, e.g. an
    edited answer whose thread reply must be updated."""
    row = dict(kind=kind, key=key, payload=payload, workspace_id=workspace_id, status=PENDING, due_at=due_at,
               attempts=0, generation=0, created_at=now)
    await conn.execute((_rearm if rearm else _insert_new)(conn.dialect.name), row)


@functools.cache
def _insert_new(dialect: str):
    """INSERT of job rows whose key is not queued yet, the columns from the parameters; built once per
    dialect (every job queues its follow-ups with it, and building it cost about as much as running it)."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(jobs).on_conflict_do_nothing(index_elements=[jobs.c.key])


@functools.cache
def _rearm(dialect: str):
    """INSERT of a job row, or its row queued again (pending, a new generation): built once per dialect,
    like `_insert_new` (every stored answer rearms its thread reply)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(jobs)
    return insert.on_conflict_do_update(
        index_elements=[jobs.c.key],
        set_={"status": PENDING, "due_at": insert.excluded.due_at, "payload": insert.excluded.payload, "attempts": 0,
              "generation": jobs.c.generation + 1, "last_error": None})


async def enqueue_many(conn: AsyncConnection, kind: str, items: list[tuple[str, dict]], *, due_at: datetime,
                       now: datetime, workspace_id: int | None = None) -> None:
    """Queue many effects of one kind at once (a fan-out); keys already queued are left alone."""
    rows = [dict(kind=kind, key=key, payload=payload, workspace_id=workspace_id, status=PENDING, due_at=due_at,
                 attempts=0, generation=0, created_at=now) for key, payload in items]
    if rows:  # one statement run for every row (executemany)
        await conn.execute(_insert_new(conn.dialect.name), rows)


async def enqueue_together(db: Database, kind: str, key: str, payload: dict, *, now: datetime,
                           workspace_id: int | None = None) -> None:
    """Queue an effect (due now, re-armed like `enqueue(rearm=True)`) in its own commit, shared with the
    other jobs queued this way at the same moment (`Database.insert_together`). For a request that
    must make what a person sent durable before it acknowledges, and leaves the rest to the job."""
    row = dict(kind=kind, key=key, payload=payload, workspace_id=workspace_id, status=PENDING, due_at=now,
               attempts=0, generation=0, created_at=now)
    await db.insert_together(_rearm(db.dialect), row)


def _free(now: datetime):
    """Pending, due, and held by nobody (or by a worker whose lease ran out: it died)."""
    return sa.and_(jobs.c.status == PENDING, jobs.c.due_at <= now,
                   sa.or_(jobs.c.locked_until.is_(None), jobs.c.locked_until < now))


async def claim(conn: AsyncConnection, *, worker: str, now: datetime, lease: float, limit: int,
                kinds: tuple[str, ...] | None = None) -> list[Job]:
    """Take up to `limit` due jobs for `lease` seconds. A row whose lease expired (its worker died)
    is due again. Returns what this worker now holds. Due jobs of a workspace the app was removed
    from are cancelled instead, whenever they were queued: the one place that keeps work away from an
    uninstalled workspace (uninstalling cancels what is pending then; this catches what a handler still
    running at that moment queued afterwards). The claim itself says which workspaces are gone, so a
    claim is one statement unless there is something to cancel."""
    gone = jobs.c.workspace_id.in_(sa.select(workspaces.c.id).where(workspaces.c.uninstalled_at.is_not(None)))
    columns = (jobs.c.id, jobs.c.kind, jobs.c.key, jobs.c.payload, jobs.c.attempts, jobs.c.generation,
               jobs.c.workspace_id, jobs.c.recovered, jobs.c.due_at)
    held: list[Job] = []
    while len(held) < limit:
        wanted = limit - len(held)
        due = sa.select(jobs.c.id).where(_free(now)).order_by(jobs.c.due_at, jobs.c.id).limit(wanted)
        if kinds:
            due = due.where(jobs.c.kind.in_(kinds))
        if conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        statement = (
            sa.update(jobs)
            .where(jobs.c.id.in_(due.scalar_subquery()))
            .values(locked_by=worker, locked_until=now + timedelta(seconds=lease), attempts=jobs.c.attempts + 1,
                    recovered=jobs.c.locked_by.is_not(None))  # SET sees the old row: a lock nobody released
            .returning(*columns, gone.label("gone"))
        )
        rows = (await conn.execute(statement)).all()
        held += [Job(*row[:len(columns)]) for row in rows if not row.gone]
        cancelled = [row.id for row in rows if row.gone]
        if cancelled:
            await conn.execute(sa.update(jobs).where(jobs.c.id.in_(cancelled))
                               .values(status=CANCELLED, finished_at=now, locked_by=None, locked_until=None))
        if len(rows) < wanted:  # nothing more is due
            break
    return held


async def renew(conn: AsyncConnection, ids: list[int], *, worker: str, until: datetime) -> None:
    """Keep holding jobs that are still being worked on (a healthy long job is not stolen)."""
    if ids:
        await conn.execute(
            sa.update(jobs).where(jobs.c.id.in_(ids), jobs.c.locked_by == worker).values(locked_until=until)
        )


_DONE = (sa.update(jobs)  # built once, like _insert_new
         .where(jobs.c.id == sa.bindparam("b_id"), jobs.c.locked_by == sa.bindparam("b_worker"),
                jobs.c.generation == sa.bindparam("b_generation"))
         .values(status=DONE, finished_at=sa.bindparam("b_now", type_=jobs.c.finished_at.type), locked_by=None,
                 locked_until=None))


async def finish(conn: AsyncConnection, job: Job, *, worker: str, now: datetime) -> None:
    """Done — unless the job was re-armed while it ran; then it runs once more."""
    done = await conn.execute(_DONE, {"b_id": job.id, "b_worker": worker, "b_generation": job.generation, "b_now": now})
    if done.rowcount == 0:
        await release(conn, job, worker=worker)


async def release(conn: AsyncConnection, job: Job, *, worker: str) -> None:
    await conn.execute(
        sa.update(jobs).where(jobs.c.id == job.id, jobs.c.locked_by == worker)
        .values(locked_by=None, locked_until=None)
    )


def backoff(attempts: int, *, base: float = 2.0, cap: float = 900.0) -> float:
    """Exponential backoff with full jitter (seconds)."""
    return random.uniform(base, min(cap, base * 2 ** attempts))


async def fail(conn: AsyncConnection, job: Job, error: str, *, worker: str, now: datetime,
               retry_in: float | None, max_attempts: int) -> bool:
    """Record a failure; retry later or, after `max_attempts` (or when `retry_in` is None), mark dead
    keeping the error. Returns True when the job is dead."""
    dead = retry_in is None or job.attempts >= max_attempts
    values = {"last_error": error[:4000], "locked_by": None, "locked_until": None}
    if dead:
        values.update(status=DEAD, finished_at=now)
    else:
        values.update(due_at=now + timedelta(seconds=retry_in))
    await conn.execute(sa.update(jobs).where(jobs.c.id == job.id, jobs.c.locked_by == worker).values(**values))
    return dead


async def defer(conn: AsyncConnection, job: Job, until: datetime, *, worker: str) -> None:
    """Run the job again later without counting this run as a failed attempt."""
    await conn.execute(
        sa.update(jobs).where(jobs.c.id == job.id, jobs.c.locked_by == worker)
        .values(due_at=until, attempts=jobs.c.attempts - 1, locked_by=None, locked_until=None)
    )


async def cancel(conn: AsyncConnection, *, workspace_id: int | None = None, key_prefix: str | None = None,
                 now: datetime) -> int:
    """Cancel pending jobs of a workspace, or those whose key starts with a prefix."""
    statement = sa.update(jobs).where(jobs.c.status == PENDING)
    if workspace_id is not None:
        statement = statement.where(jobs.c.workspace_id == workspace_id)
    if key_prefix is not None:
        statement = statement.where(jobs.c.key.startswith(key_prefix, autoescape=True))
    result = await conn.execute(statement.values(status=CANCELLED, finished_at=now))
    return result.rowcount


async def pending(conn: AsyncConnection, key: str) -> bool:
    """Whether the job with this key is still to run (a running job stays pending until it finishes)."""
    return (await conn.execute(sa.select(jobs.c.id).where(jobs.c.key == key, jobs.c.status == PENDING)
                               .limit(1))).first() is not None


async def reschedule(conn: AsyncConnection, key: str, due_at: datetime) -> None:
    await conn.execute(sa.update(jobs).where(jobs.c.key == key, jobs.c.status == PENDING).values(due_at=due_at))
