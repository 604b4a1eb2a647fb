"""The job queue on real SQLite and PostgreSQL: once-only keys, leases, retries, re-arming."""

import asyncio
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core.jobs import queue
from core.jobs.worker import Worker
from core.persistence.tables import jobs
from core.ports import FixedClock

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


async def test_one_row_per_key_however_often_it_is_queued(db):
    async with db.transaction() as conn:
        for _ in range(3):
            await queue.enqueue(conn, "k", "dm:1:1", {"n": 1}, due_at=T0, now=T0)
    async with db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(jobs))).scalar() == 1


async def test_claim_leases_and_an_expired_lease_is_claimed_again_as_recovered(db):
    async with db.transaction() as conn:
        await queue.enqueue(conn, "k", "a", {}, due_at=T0, now=T0)
        await queue.enqueue(conn, "k", "later", {}, due_at=T0 + timedelta(hours=1), now=T0)
    async with db.transaction() as conn:
        first = await queue.claim(conn, worker="w1", now=T0, lease=30, limit=10)
    assert [j.key for j in first] == ["a"] and not first[0].recovered
    async with db.transaction() as conn:
        assert await queue.claim(conn, worker="w2", now=T0 + timedelta(seconds=10), lease=30, limit=10) == []
    async with db.transaction() as conn:  # w1 died: after the lease, w2 gets it, marked recovered
        again = await queue.claim(conn, worker="w2", now=T0 + timedelta(seconds=31), lease=30, limit=10)
    assert [j.key for j in again] == ["a"] and again[0].recovered and again[0].attempts == 2


async def test_rearming_a_running_job_makes_it_run_once_more(db):
    async with db.transaction() as conn:
        await queue.enqueue(conn, "k", "answer:1", {"v": 1}, due_at=T0, now=T0, rearm=True)
        [job] = await queue.claim(conn, worker="w", now=T0, lease=30, limit=1)
        await queue.enqueue(conn, "k", "answer:1", {"v": 2}, due_at=T0, now=T0, rearm=True)
        await queue.finish(conn, job, worker="w", now=T0)
        [again] = await queue.claim(conn, worker="w", now=T0, lease=30, limit=1)
    assert again.payload == {"v": 2}


async def test_worker_retries_with_backoff_then_marks_dead_keeping_the_error(db):
    calls = []

    async def flaky(job):
        calls.append(job.attempts)
        raise RuntimeError("platform said no")

    clock = FixedClock(T0)
    worker = Worker(db, {"k": flaky}, clock, max_attempts=3)
    async with db.transaction() as conn:
        await queue.enqueue(conn, "k", "x", {}, due_at=T0, now=T0)
    for _ in range(5):
        await worker.run_due()
        clock.advance(hours=1)
    async with db.transaction() as conn:
        row = (await conn.execute(sa.select(jobs))).one()
    assert calls == [1, 2, 3]
    assert row.status == "dead" and "platform said no" in row.last_error


async def test_run_due_runs_jobs_queued_by_jobs_when_due(db):
    ran = []

    async def first(job):
        ran.append(job.key)
        async with db.transaction() as conn:
            await queue.enqueue(conn, "k", "second", {}, due_at=T0, now=T0)
            await queue.enqueue(conn, "k", "tomorrow", {}, due_at=T0 + timedelta(days=1), now=T0)

    worker = Worker(db, {"k": first}, FixedClock(T0))
    async with db.transaction() as conn:
        await queue.enqueue(conn, "k", "first", {}, due_at=T0, now=T0)
    assert await worker.run_due() == 2
    assert ran == ["first", "second"]


async def test_a_stopped_worker_releases_what_it_could_not_finish(db):
    """SIGTERM: the worker stops taking work, lets running jobs finish briefly, releases the rest."""
    import asyncio

    started = asyncio.Event()

    async def endless(job):
        started.set()
        await asyncio.sleep(3600)

    worker = Worker(db, {"k": endless}, FixedClock(T0), lease=0.6, poll=0.05)
    async with db.transaction() as conn:
        await queue.enqueue(conn, "k", "long", {}, due_at=T0, now=T0)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run_forever(stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(running, 5)
    async with db.transaction() as conn:
        row = (await conn.execute(sa.select(jobs))).one()
    assert row.status == "pending" and row.locked_by is None  # free for the next worker right away


async def test_a_claim_cancels_due_jobs_of_a_removed_workspace_and_still_fills_up_with_the_rest(db):
    from core.domain.refs import WorkspaceRef
    from core.persistence import repository as repo

    async with db.transaction() as conn:
        gone = await repo.ensure_workspace(conn, WorkspaceRef("slack", "TGONE"), now=T0)
        here = await repo.ensure_workspace(conn, WorkspaceRef("slack", "THERE"), now=T0)
        for key, workspace in (("gone:1", gone), ("gone:2", gone), ("here:1", here), ("here:2", here)):
            await queue.enqueue(conn, "k", key, {}, due_at=T0, now=T0, workspace_id=workspace)
        await queue.enqueue(conn, "k", "nobody's", {}, due_at=T0, now=T0)
        await repo.mark_uninstalled(conn, gone, T0)
    async with db.transaction() as conn:  # the removed workspace's jobs come first, yet two others are taken
        taken = await queue.claim(conn, worker="w", now=T0, lease=30, limit=2)
    assert sorted(j.key for j in taken) == ["here:1", "here:2"]
    async with db.transaction() as conn:
        assert [j.key for j in await queue.claim(conn, worker="w", now=T0, lease=30, limit=2)] == ["nobody's"]
        statuses = dict((await conn.execute(sa.select(jobs.c.key, jobs.c.status))).all())
    assert statuses == {"gone:1": "cancelled", "gone:2": "cancelled", "here:1": "pending", "here:2": "pending",
                        "nobody's": "pending"}


async def test_jobs_queued_together_share_commits_and_a_bad_row_fails_only_its_caller(db):
    """`enqueue_together` (the answer form's submission): 50 callers at once are committed in a few
    transactions, each returns only once its row is committed, and a row the database refuses fails
    only the caller who brought it."""
    commits = []

    def count(_conn) -> None:
        commits.append(1)

    async def one(n: int) -> str:
        await queue.enqueue_together(db, "k", f"in:{n}", {"n": n}, now=T0)
        async with db.transaction() as conn:  # committed by the time the caller goes on
            return (await conn.execute(sa.select(jobs.c.status).where(jobs.c.key == f"in:{n}"))).scalar_one()

    sa.event.listen(sa.engine.Engine, "commit", count)  # every engine: on SQLite the batch has its own
    try:
        assert await asyncio.gather(*(one(n) for n in range(50))) == ["pending"] * 50
    finally:
        sa.event.remove(sa.engine.Engine, "commit", count)
    together = len(commits) - 50  # each caller's own read above commits once too
    assert 1 <= together <= 5, together

    good = [queue.enqueue_together(db, "k", f"ok:{n}", {"n": n}, now=T0) for n in range(10)]
    bad = db.insert_together(jobs.insert(), {"kind": None, "key": "bad", "payload": {}, "status": "pending"})
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert results[:10] == [None] * 10 and isinstance(results[10], sa.exc.IntegrityError)
    async with db.transaction() as conn:
        keys = set((await conn.execute(sa.select(jobs.c.key).where(jobs.c.key.like("ok:%")))).scalars())
        assert keys == {f"ok:{n}" for n in range(10)}
    # queued again while pending: the newer payload replaces it (the newer answers are kept)
    await queue.enqueue_together(db, "k", "in:7", {"n": "again"}, now=T0)
    async with db.transaction() as conn:
        row = (await conn.execute(sa.select(jobs.c.payload, jobs.c.generation).where(jobs.c.key == "in:7"))).one()
    assert row.payload == {"n": "again"} and row.generation == 1
