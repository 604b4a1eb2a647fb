"""The job worker: claims due jobs, runs their handlers, and records the outcome.

It runs in `unmeet serve`'s event loop, alone as `unmeet worker`, or once as
`unmeet jobs run-due --now …`. Several workers may share one PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from core import logs, metrics
from core.foreground import Foreground
from core.jobs import queue
from core.jobs.queue import Job
from core.persistence.db import Database
from core.ports import Clock, RetryLater

log = logging.getLogger("unmeet.jobs")

Handler = Callable[[Job], Awaitable[None]]


class Defer(Exception):
    """Raised by a handler: not now, run again at `until` (not a failure)."""

    def __init__(self, until: datetime):
        super().__init__(f"deferred until {until.isoformat()}")
        self.until = until


class Permanent(Exception):
    """Raised by a handler: this job can never succeed; mark it dead with this reason."""


class Worker:
    def __init__(self, db: Database, handlers: dict[str, Handler], clock: Clock, *, lease: float = 30.0,
                 max_attempts: int = 8, concurrency: int = 16, poll: float = 1.0, name: str | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, foreground: Foreground | None = None):
        self.db = db
        self.handlers = handlers
        self.clock = clock
        self.lease = lease
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self._refill = max(1, concurrency // 4)  # during a backlog, claim when this many slots are free
        self.poll = poll
        self.sleep = sleep
        self.foreground = foreground  # this process's requests, which go first (core/foreground.py)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._running: dict[int, asyncio.Task] = {}
        self._held: dict[int, Job] = {}  # the jobs behind `_running`, to release them at shutdown
        self._wake = asyncio.Event()
        self.running = False  # run_forever's loop is going (readiness, unmeet/ops.py)

    def wake(self) -> None:
        """New work was queued in this process: look now instead of at the next poll."""
        self._wake.set()

    async def _claim(self, limit: int, now: datetime) -> list[Job]:
        async with self.db.transaction() as conn:
            return await queue.claim(conn, worker=self.name, now=now, lease=self.lease, limit=limit,
                                     kinds=tuple(self.handlers))

    async def _run(self, job: Job) -> None:
        handler = self.handlers[job.kind]
        if self.foreground is not None:
            await self.foreground.quiet()
        logs.job_id.set(f"{job.kind}#{job.id}")  # this task's log lines (each job runs in a task of its own)
        started = time.perf_counter()
        if job.due_at is not None:
            metrics.job_started(job.kind, (self.clock.now() - job.due_at).total_seconds())
        outcome = "retried"
        try:
            await handler(job)
        except Defer as deferred:
            outcome = "deferred"
            async with self.db.transaction() as conn:
                await queue.defer(conn, job, deferred.until, worker=self.name)
        except Permanent as error:
            outcome = "dead"
            log.warning("job %s (%s) failed for good: %s", job.key, job.kind, error)
            async with self.db.transaction() as conn:
                await queue.fail(conn, job, str(error), worker=self.name, now=self.clock.now(), retry_in=None,
                                 max_attempts=self.max_attempts)
        except Exception as error:  # noqa: BLE001 - any failure of a handler is recorded, never lost
            retry_in = error.seconds if isinstance(error, RetryLater) and error.seconds else None
            retry_in = retry_in or queue.backoff(job.attempts)
            async with self.db.transaction() as conn:
                dead = await queue.fail(conn, job, f"{type(error).__name__}: {error}", worker=self.name,
                                        now=self.clock.now(), retry_in=retry_in, max_attempts=self.max_attempts)
            if dead:
                outcome = "dead"
                log.error("job %s (%s) is dead after %d attempts: %s", job.key, job.kind, job.attempts, error)
            else:
                log.warning("job %s (%s) attempt %d failed, retry in %.1fs: %s", job.key, job.kind,
                            job.attempts, retry_in, error)
        else:
            outcome = "done"
            async with self.db.transaction() as conn:
                await queue.finish(conn, job, worker=self.name, now=self.clock.now())
        finally:
            metrics.job_finished(job.kind, outcome, time.perf_counter() - started)

    async def run_due(self, now: datetime | None = None) -> int:
        """Run every job due at `now` (default: the clock's now) once, then return how many ran.
        Jobs queued by those jobs run too when they are due by then."""
        count = 0
        while True:
            moment = now or self.clock.now()
            batch = await self._claim(self.concurrency, moment)
            if not batch:
                return count
            await asyncio.gather(*(self._run(job) for job in batch))
            count += len(batch)

    async def _heartbeat(self) -> None:
        while True:
            await self.sleep(self.lease / 3)
            if self._running:
                until = self.clock.now() + timedelta(seconds=self.lease)
                try:
                    async with self.db.transaction() as conn:
                        await queue.renew(conn, list(self._running), worker=self.name, until=until)
                except Exception:  # noqa: BLE001 - a missed renewal only risks a duplicate claim later
                    log.exception("could not renew job leases")

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll and run until `stop` is set (SIGTERM); then stop taking work, give what is running a
        moment to finish, and release the rest so another worker takes it at once."""
        heartbeat = asyncio.create_task(self._heartbeat())
        log.info("job worker %s started", self.name)
        self.running = True
        try:
            while not stop.is_set():
                free = self.concurrency - len(self._running)
                claimed: list[Job] = []
                if free > 0:
                    try:
                        if self.foreground is not None:
                            await self.foreground.quiet()
                        claimed = await self._claim(free, self.clock.now())
                    except Exception:  # noqa: BLE001 - the database may be briefly away; keep polling
                        log.exception("could not claim jobs")
                for job in claimed:
                    task = asyncio.create_task(self._run(job))
                    self._running[job.id] = task
                    self._held[job.id] = job
                    task.add_done_callback(lambda _t, job_id=job.id: (self._running.pop(job_id, None),
                                                                      self._held.pop(job_id, None)))
                if claimed and len(claimed) == free:
                    # More may be due: claim again once a quarter of the slots are free, not as soon as one
                    # is (a claim is a transaction; a 1,000-DM fan-out made one per finished job). What is
                    # due waits behind that backlog either way: claims take the oldest due first.
                    await asyncio.sleep(0)
                    while len(self._running) > self.concurrency - self._refill:
                        await asyncio.wait(list(self._running.values()), return_when=asyncio.FIRST_COMPLETED)
                    continue
                await self._idle(stop)
        finally:
            self.running = False
            if self._running:
                await asyncio.wait(list(self._running.values()), timeout=self.lease / 2)
            heartbeat.cancel()
            await self._release_unfinished()
            log.info("job worker %s stopped", self.name)

    async def _release_unfinished(self) -> None:
        unfinished = [(task, self._held[job_id]) for job_id, task in list(self._running.items())
                      if job_id in self._held]
        for task, _job in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.wait([task for task, _job in unfinished])
            async with self.db.transaction() as conn:
                for _task, job in unfinished:
                    await queue.release(conn, job, worker=self.name)
            log.info("released %d unfinished job(s) for another worker", len(unfinished))

    async def _idle(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(self._wake.wait())]
        waiters += list(self._running.values())
        done, pending = await asyncio.wait(waiters, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED)
        for task in waiters[:2]:
            if not task.done():
                task.cancel()
