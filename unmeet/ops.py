"""What an operator and a load balancer ask a process: `/healthz` (alive), `/readyz` (can do its work)
and `/metrics` (Prometheus), and the middleware that gives each platform request an id for its log
lines and counts it.

- `/healthz`: 200 while the process answers at all (restart it when this fails).
- `/readyz`: 200 when the database answers and is migrated to the head revision this code knows, and,
  in a process that runs the job worker, its loop is running; else 503. The body says which part is
  not ready. A database at a revision this code doesn't know is newer (a rolling upgrade migrated it):
  ready, so old instances keep serving until they are replaced.
- `/metrics`: this process's registry (core/metrics.py); the outbox depth is read from the database
  at each scrape. Served unless UNMEET_METRICS=false.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import nullcontext

from aiohttp import web

from core import logs, metrics
from core.jobs.worker import Worker
from core.persistence import migrate
from core.services.deps import Deps

log = logging.getLogger("unmeet.ops")
access_log = logging.getLogger("unmeet.http")  # a line per platform request: no path, query or body

DEPS = web.AppKey("deps", Deps)
CHECK_SECONDS = 3.0  # a readiness or metrics query that takes longer counts as the database being away

# the platform endpoints whose requests get an id and are counted (core/metrics.py ENDPOINTS)
ENDPOINTS = {"/slack/events": "slack_events", "/api/messages": "teams_messages",
             "/slack/oauth_redirect": "slack_oauth", "/slack/install": "slack_install"}


@web.middleware
async def observe(request: web.Request, handler) -> web.StreamResponse:
    """A platform request: an id for every log line it causes (also after the ack), then its count, how
    long it took to answer, by the kind its handler found (`metrics.request_kind`, set in this task), and one log line.
    While it is answered, it counts as in flight (core/foreground.py: the worker lets it go first)."""
    endpoint = ENDPOINTS.get(request.path)
    if endpoint is None:
        return await handler(request)
    logs.new_request_id(request.headers.get("X-Request-Id"))
    metrics.request_kind.set(None)
    started = time.perf_counter()
    status = 500
    deps = request.app.get(DEPS)
    try:
        with deps.foreground.request() if deps is not None else nullcontext():
            response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        seconds = time.perf_counter() - started
        kind = metrics.request(endpoint, metrics.request_kind.get(), status, seconds)
        access_log.info("%s %s %s %d %.1f ms", request.method, endpoint, kind, status, seconds * 1000)
        logs.request_id.set(None)  # the connection's next request gets its own


class Ops:
    """The checks of one process: its database and, when it runs one, its job worker."""

    def __init__(self, deps: Deps, worker: Worker | None):
        self.deps = deps
        self.worker = worker
        self._last: tuple | None = None

    async def _database(self) -> dict:
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                async with self.deps.db.engine.connect() as conn:
                    applied = await migrate.applied(conn)
        except Exception as error:  # noqa: BLE001 - any failure to ask means: not reachable
            return {"database": "unreachable", "error": type(error).__name__}
        heads = migrate.heads()
        if applied == heads:
            state = "migrated"
        elif applied and not applied & migrate.known_revisions():
            state = "newer"
        else:
            state = "not migrated"
        return {"database": state, "revision": sorted(applied), "head": sorted(heads)}

    async def readiness(self) -> tuple[bool, dict]:
        body = await self._database()
        ready = body["database"] in ("migrated", "newer")
        if self.worker is not None:
            body["worker"] = "running" if self.worker.running else "stopped"
            ready = ready and self.worker.running
        body = {"ready": ready, **body}
        state = (ready, body["database"], body.get("worker"))
        if state != self._last:  # a line when readiness changes, not at every probe
            (log.info if ready else log.warning)("readiness: %s", " ".join(
                f"{key}={body[key]}" for key in ("ready", "database", "worker", "error") if key in body))
            self._last = state
        return ready, body


OPS = web.AppKey("ops", Ops)


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "platforms": sorted(request.app[DEPS].messengers)})


async def _readyz(request: web.Request) -> web.Response:
    ready, body = await request.app[OPS].readiness()
    return web.json_response(body, status=200 if ready else 503)


async def _metrics(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await metrics.refresh_outbox(deps.db, deps.clock.now())
    except Exception as error:  # noqa: BLE001 - the other metrics are still worth serving
        log.warning("metrics: could not count the outbox: %s", type(error).__name__)
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


def add_routes(app: web.Application, deps: Deps, worker: Worker | None) -> None:
    app[DEPS] = deps
    app[OPS] = Ops(deps, worker)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    if deps.settings.unmeet_metrics:
        app.router.add_get("/metrics", _metrics)
