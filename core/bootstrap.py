"""The composition root of core: settings -> database, clock, summariser -> services and job handlers.
Platform adapters add their messengers to `deps.messengers`."""

from __future__ import annotations

from functools import partial

from core import metrics
from core.config import Settings
from core.jobs.worker import Handler, Worker
from core.llm.offline import OfflineSummariser
from core.persistence.db import Database
from core.ports import Clock, Summariser, SystemClock
from core.services.deps import Deps
from core.services.agreements import AGREEMENT_JOBS
from core.services.digest import DIGEST_JOBS, ensure_schedule
from core.services.focus import FOCUS_JOBS
from core.services.home import HOME_JOBS
from core.services.drivers_seat import DRIVERS_SEAT_JOBS
from core.services.one_thing import ONE_THING_JOBS
from core.services.privacy import PRIVACY_JOBS, ensure_sweep
from core.services.programmes import PROGRAMME_JOBS
from core.services.rounds import ROUND_JOBS
from core.services.stuck import STUCK_JOBS

# every feature's {job kind: handler(deps, job)}
JOB_TABLES = (ROUND_JOBS, FOCUS_JOBS, DIGEST_JOBS, HOME_JOBS, PRIVACY_JOBS, ONE_THING_JOBS, AGREEMENT_JOBS,
              STUCK_JOBS, DRIVERS_SEAT_JOBS, PROGRAMME_JOBS)
STARTUP = (ensure_schedule, ensure_sweep)  # every feature's async f(deps), run when a worker starts
metrics.known_job_kinds(kind for table in JOB_TABLES for kind in table)  # the job metrics' label set


def build_deps(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Deps:
    db, clock = db or Database(settings.database_url), clock or SystemClock()
    return Deps(db=db, clock=clock, settings=settings, summariser=build_summariser(settings, db, clock))


def build_summariser(settings: Settings, db: Database, clock: Clock) -> Summariser:
    """The model's summary when an endpoint and model are configured (the offline one as its fallback);
    else the offline summary alone."""
    if not settings.llm_configured:
        return OfflineSummariser()
    from core.llm.client import LlmClient
    from core.llm.gate import Llm
    from core.llm.summariser import LlmSummariser

    return LlmSummariser(Llm(db, clock, settings, LlmClient(settings)), OfflineSummariser())


def job_handlers(deps: Deps) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for table in JOB_TABLES:
        handlers.update({kind: partial(handler, deps) for kind, handler in table.items()})
    return handlers


async def start_features(deps: Deps) -> None:
    """Seed each feature's periodic jobs; idempotent (unique keys), so every instance may do it."""
    for starter in STARTUP:
        await starter(deps)


def build_worker(deps: Deps, **kwargs) -> Worker:
    settings = deps.settings
    options = dict(lease=settings.job_lease_seconds, max_attempts=settings.job_max_attempts,
                   concurrency=settings.job_concurrency, poll=settings.job_poll_seconds)
    options.update(kwargs)
    worker = Worker(deps.db, job_handlers(deps), deps.clock, foreground=deps.foreground, **options)
    deps.wake_worker = worker.wake
    return worker
