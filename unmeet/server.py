"""One process: the aiohttp server (Slack, Teams, health, metrics) and the job worker in the same event loop."""

from __future__ import annotations

import asyncio
import gc
import ipaddress
import logging
import signal
from contextlib import suppress
from datetime import datetime

from aiohttp import web

from core.bootstrap import build_deps, build_worker, start_features
from core.config import Settings
from core.jobs.worker import Worker
from core.ports import FixedClock
from core.services.deps import Deps
from unmeet import ops

log = logging.getLogger("unmeet")


class ConfigurationError(Exception):
    """The settings would run an unsafe or broken app; the sentence says what to change."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_platforms(deps: Deps, app: web.Application | None) -> list[str]:
    """Wire each configured platform into `deps` (its messenger) and `app` (its routes).
    Returns sentences about what is disabled and how to enable it."""
    settings = deps.settings
    notes = []
    if settings.slack_bot_token or settings.slack_installs:
        credential = "SLACK_BOT_TOKEN" if settings.slack_bot_token else "UNMEET_SLACK_CLIENT_ID"
        if not settings.slack_signing_secret and not settings.socket_mode and not settings.unmeet_dev_mode:
            raise ConfigurationError(
                f"{credential} is set but SLACK_SIGNING_SECRET is empty, so requests claiming to come from "
                "Slack could not be verified. Set SLACK_SIGNING_SECRET (Basic Information > App Credentials), "
                "or SLACK_APP_TOKEN for Socket Mode.")
        if settings.slack_installs and not (settings.unmeet_secret_key or settings.slack_signing_secret):
            raise ConfigurationError(
                "Installs into many workspaces store each workspace's bot token encrypted, but there is no key: "
                "set UNMEET_SECRET_KEY.")
        from slack_app import SlackAdapter

        slack = SlackAdapter(deps)
        deps.messengers["slack"] = slack.messenger
        if app is not None:
            slack.add_routes(app)
    else:
        notes.append("Slack is disabled: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for "
                     "Socket Mode) to enable it, or UNMEET_SLACK_CLIENT_ID and UNMEET_SLACK_CLIENT_SECRET to install "
                     "it in many workspaces. See README, 'Install into a Slack workspace'.")
    # Teams: on with MICROSOFT_APP_ID (tokens checked); without it anonymous (local mode, for the Agents
    # Playground), which is only safe where nobody else can reach /api/messages.
    if settings.microsoft_app_id or settings.teams_local_mode or is_loopback(settings.host):
        from teams_app import TeamsAdapter

        teams = TeamsAdapter(deps)
        deps.messengers["teams"] = teams.messenger
        if app is not None:
            teams.add_routes(app)
        if teams.local_mode:
            notes.append("Teams runs in local mode (no MICROSOFT_APP_ID): /api/messages accepts requests without "
                         "a token, as the Agents Playground sends them. Set MICROSOFT_APP_ID for a real tenant.")
    elif settings.microsoft_app_password or settings.microsoft_app_tenant_id or not deps.messengers:
        raise ConfigurationError(
            f"Teams has no MICROSOFT_APP_ID and unmeet would listen on {settings.host}, not a loopback address, so "
            "anyone who reaches /api/messages could act as any Teams user. Set MICROSOFT_APP_ID and "
            "MICROSOFT_APP_PASSWORD (Azure Bot > Configuration), use HOST=127.0.0.1 to try it locally, or set "
            "TEAMS_LOCAL_MODE=true if only trusted machines can reach this address.")
    else:
        notes.append("Teams is disabled: set MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD to enable it.")
    return notes


def build_app(deps: Deps, *, worker: Worker | None = None) -> tuple[web.Application, list[str]]:
    """The web app: the platforms' routes and the operator's (/healthz, /readyz, /metrics); `worker`
    is the job worker running in this process, if any (readiness watches it)."""
    app = web.Application(client_max_size=1024 ** 2, middlewares=[ops.observe])
    ops.add_routes(app, deps, worker)
    notes = add_platforms(deps, app)
    return app, notes


async def work(deps: Deps, worker: Worker, stop: asyncio.Event) -> None:
    """Seed the features' periodic jobs, then run the worker until `stop`. While the database can't be
    used yet (not reachable, not migrated) the process stays up and tries again every few seconds;
    /readyz says what it waits for."""
    delay = 1.0
    while True:
        try:
            await start_features(deps)
            break
        except Exception as error:  # noqa: BLE001 - waiting for the database is the point
            log.warning("the job worker waits for the database (%s); trying again in %.0f s",
                        type(error).__name__, delay)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return
            delay = min(delay * 2, 30.0)
    try:
        await worker.run_forever(stop)
    except Exception:
        log.exception("the job worker stopped")
        raise


def settle_heap() -> None:
    """Once everything is imported and built: what exists now lives as long as the process, so the
    garbage collector stops scanning it (`gc.freeze`). Otherwise each full collection walked the
    whole heap of libraries, about 55 ms with the event loop stopped, and the requests in flight
    waited for it."""
    gc.collect()
    gc.freeze()


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread (tests) or not supported
            pass


async def serve(settings: Settings, *, worker: bool = True, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None) -> None:
    deps = build_deps(settings)
    job_worker = build_worker(deps) if worker else None
    app, notes = build_app(deps, worker=job_worker)
    for note in notes:
        log.warning(note)
    stop = stop or asyncio.Event()
    _on_signals(stop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    settle_heap()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info("unmeet is listening on http://%s:%s", settings.host, settings.port)
    tasks = []
    if job_worker is not None:
        tasks.append(asyncio.create_task(work(deps, job_worker, stop)))
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        await deps.close()


async def run_worker(settings: Settings) -> None:
    """`unmeet worker`: the job worker alone; with UNMEET_WORKER_PORT, also /healthz, /readyz and /metrics
    on that port (no platform routes)."""
    deps = build_deps(settings)
    for note in add_platforms(deps, None):
        log.warning(note)
    stop = asyncio.Event()
    _on_signals(stop)
    worker = build_worker(deps)
    runner = None
    if settings.unmeet_worker_port:
        app = web.Application()
        ops.add_routes(app, deps, worker)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.unmeet_worker_port).start()
        log.info("the worker answers /healthz, /readyz and /metrics on http://%s:%s", settings.host,
                 settings.unmeet_worker_port)
    try:
        await work(deps, worker, stop)
    finally:
        if runner is not None:
            await runner.cleanup()
        await deps.close()


async def run_due(settings: Settings, now: datetime | None) -> int:
    """`unmeet jobs run-due --now …`: every job due at that instant, once, with the clock fixed there."""
    deps = build_deps(settings, clock=FixedClock(now) if now else None)
    add_platforms(deps, None)
    try:
        await start_features(deps)
        return await build_worker(deps).run_due(now)
    finally:
        await deps.close()
