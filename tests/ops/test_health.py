"""/healthz and /readyz over real HTTP: not ready until the database is migrated, when it is unreachable,
and once the worker loop stopped; `unmeet worker`'s own port; UNMEET_METRICS=false."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.persistence.migrate import heads
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database, require_postgres
from tests.fakes.processes import ROOT, clean_env, free_port
from tests.ops.conftest import unmeet, wait_until
from unmeet.server import build_app, work

HEAD = sorted(heads())


@pytest.fixture(params=BACKENDS)
async def empty_database_url(request, tmp_path):
    """A database nobody migrated yet, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    require_postgres()
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


async def upgrade(database_url: str) -> None:
    """`unmeet db upgrade`, as an operator runs it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "unmeet", "db", "upgrade", cwd=ROOT, env=clean_env(DATABASE_URL=database_url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()


async def test_not_ready_until_the_database_is_migrated_then_ready_without_a_restart(empty_database_url, tmp_path):
    async with unmeet(tmp_path, "serve", "--no-migrate", DATABASE_URL=empty_database_url) as serve:
        status, body = await serve.get_json("/readyz")
        assert status == 503, body
        assert body == {"ready": False, "database": "not migrated", "revision": [], "head": HEAD,
                        "worker": "stopped"}
        assert (await serve.get_json("/healthz"))[0] == 200  # alive all the same: no reason to restart it
        await upgrade(empty_database_url)

        async def ready():
            return (await serve.get_json("/readyz"))[0] == 200

        assert await wait_until(ready, 40), serve.log()
        assert (await serve.get_json("/readyz"))[1] == {"ready": True, "database": "migrated", "revision": HEAD,
                                                        "head": HEAD, "worker": "running"}
        assert "the job worker waits for the database" in serve.log()


async def test_not_ready_while_the_database_is_unreachable(tmp_path):
    nobody = f"postgresql://postgres@127.0.0.1:{free_port()}/unmeet"  # a port nothing listens on
    async with unmeet(tmp_path, "serve", "--no-migrate", DATABASE_URL=nobody) as serve:
        status, body = await serve.get_json("/readyz")
    assert status == 503
    assert body["ready"] is False and body["database"] == "unreachable" and body["worker"] == "stopped"
    assert "127.0.0.1" not in json.dumps(body)  # says what is wrong, not where the database lives


async def test_not_ready_once_the_worker_loop_stopped(database_url):
    deps = build_deps(Settings(database_url=database_url, host="127.0.0.1"))
    worker = build_worker(deps, poll=0.05)
    app, _notes = build_app(deps, worker=worker)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    loop = asyncio.create_task(work(deps, worker, stop))
    try:
        async with aiohttp.ClientSession() as session:
            async def readyz() -> tuple[int, dict]:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    return response.status, await response.json()

            assert await wait_until(lambda: _is(readyz, 200))
            assert (await readyz())[1]["worker"] == "running"
            stop.set()
            await asyncio.wait_for(loop, 10)
            status, body = await readyz()
            assert status == 503
            assert body == {"ready": False, "database": "migrated", "revision": HEAD, "head": HEAD,
                            "worker": "stopped"}
    finally:
        stop.set()
        await asyncio.gather(loop, return_exceptions=True)
        await runner.cleanup()
        await deps.close()


async def _is(get, status: int) -> bool:
    return (await get())[0] == status


async def test_the_worker_alone_answers_health_readiness_and_metrics_on_its_own_port(database_url, tmp_path):
    async with unmeet(tmp_path, "worker", port_setting="UNMEET_WORKER_PORT", DATABASE_URL=database_url,
                      JOB_POLL_SECONDS="0.1") as worker:
        assert await wait_until(lambda: _is(lambda: worker.get("/readyz"), 200)), worker.log()
        status, body = await worker.get_json("/readyz")
        assert body["worker"] == "running" and body["database"] == "migrated"
        assert (await worker.get("/slack/events"))[0] == 404  # no platform routes on a worker

        async def swept():  # the daily retention sweep is due at start: the worker ran it
            text = (await worker.get("/metrics"))[1]
            return samples(text).get(("unmeet_jobs_total", (("kind", "privacy.sweep"), ("outcome", "done"))))

        assert await wait_until(swept), worker.log()
        text = (await worker.get("/metrics"))[1]
        assert ("unmeet_outbox_jobs", (("kind", "privacy.sweep"), ("state", "scheduled"))) in samples(text)
        worker.process.terminate()
        assert await asyncio.wait_for(worker.process.wait(), 15) == 0
    assert "job worker" in worker.log() and "stopped" in worker.log()


async def test_metrics_can_be_switched_off(tmp_path):
    async with unmeet(tmp_path, "serve", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", UNMEET_METRICS="false") as serve:
        assert (await serve.get("/metrics"))[0] == 404
        assert (await serve.get("/readyz"))[0] in (200, 503)
    async with unmeet(tmp_path, "serve", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}") as serve:
        status, text = await serve.get("/metrics")
        assert status == 200 and "# TYPE unmeet_requests_total counter" in text, text[:500]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value of a Prometheus text exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}
