"""What an operator can see from outside: Prometheus metrics through the official `prometheus_client`.

Each process counts in its own registry (the library's default, with its process and GC metrics) and
serves it at `GET /metrics` (unmeet/ops.py); Prometheus scrapes every instance. Labels name endpoints,
kinds of request, job kinds, API methods and outcomes: never a person, a channel, a team or any text,
and every label set is bounded (a value outside the known ones is counted as "other").
Recording is a dictionary lookup and an addition: nothing here awaits or touches the database, except
`refresh_outbox`, which the /metrics handler runs once per scrape.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime

import sqlalchemy as sa
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               disable_created_metrics, generate_latest)

from core.llm.prompts import PROMPTS_DIR
from core.persistence.db import Database
from core.persistence.tables import jobs

disable_created_metrics()  # no `*_created` series: half the exposition, and nothing dashboards use

OTHER = "other"
# a platform handler notes the kind of request it got here (unmeet/ops.py counts the request by it)
request_kind: ContextVar[str | None] = ContextVar("request_kind", default=None)

# Slack acks must arrive within 3 s and Teams answers within 15 s: buckets around both.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0)
LAG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 180.0)

ENDPOINTS = frozenset({"slack_events", "teams_messages", "slack_oauth", "slack_install"})
REQUEST_KINDS = frozenset({
    # Slack: what a request to /slack/events carries
    "command", "block_actions", "view_submission", "view_closed", "shortcut", "message_action",
    "block_suggestion", "event_callback", "url_verification", "unreadable",
    # Teams: the activity's type
    "message", "invoke", "conversationUpdate", "installationUpdate", "messageReaction", "messageUpdate",
    "messageDelete", "event", "typing",
})
SLACK_METHODS = frozenset({
    "auth.test", "chat.getPermalink", "chat.postEphemeral", "chat.postMessage", "chat.update", "chat.delete",
    "conversations.history", "conversations.info", "conversations.members", "conversations.open",
    "conversations.replies", "dnd.endSnooze", "dnd.setSnooze", "files.getUploadURLExternal",
    "files.completeUploadExternal", "oauth.v2.access", "users.info", "users.list", "users.profile.set",
    "views.open", "views.publish", "views.push", "views.update",
})
TEAMS_METHODS = frozenset({"send_activity", "update_activity", "create_conversation", "get_paged_members",
                           "get_member"})
JOB_OUTCOMES = frozenset({"done", "retried", "deferred", "dead"})
LLM_TASKS = frozenset(path.parent.name for path in PROMPTS_DIR.glob("*/v*.md"))  # every prompt's task
LLM_OUTCOMES = frozenset({"ok", "error"})
# core/llm/gate.py's reasons a model's answer was replaced by the offline one
LLM_FALLBACK_REASONS = frozenset({"not_configured", "switched_off", "budget", "endpoint_error", "timeout"})
OUTBOX_STATES = ("due", "scheduled", "running", "dead")


def bounded(value: object, known: frozenset[str]) -> str:
    return value if isinstance(value, str) and value in known else OTHER


REQUESTS = Counter("unmeet_requests", "Requests from the platforms, by endpoint, kind and HTTP status.",
                   ("endpoint", "kind", "status"))
ACK_SECONDS = Histogram("unmeet_ack_seconds", "Time from receiving a platform request to answering it.",
                        ("endpoint", "kind"), buckets=ACK_BUCKETS)
JOB_LAG = Histogram("unmeet_job_lag_seconds", "Time from a job being due to a worker starting it.", ("kind",),
                    buckets=LAG_BUCKETS)
JOB_SECONDS = Histogram("unmeet_job_seconds", "Time one run of a job took.", ("kind",), buckets=DURATION_BUCKETS)
JOB_OUTCOME = Counter("unmeet_jobs", "Finished runs of jobs: done, retried, deferred or dead.",
                      ("kind", "outcome"))
PLATFORM_CALLS = Counter("unmeet_platform_calls", "Calls to the Slack Web API and the Bot Connector.",
                         ("platform", "method"))
RATE_LIMITED = Counter("unmeet_platform_rate_limited", "429 answers from Slack or the Bot Connector.",
                       ("platform", "method"))
LLM_CALLS = Counter("unmeet_llm_calls", "HTTP calls to the LLM endpoint, by prompt task and outcome.",
                    ("task", "outcome"))
LLM_TOKENS = Counter("unmeet_llm_tokens", "Tokens the LLM endpoint counted, by prompt task and direction.",
                     ("task", "direction"))
LLM_FALLBACKS = Counter("unmeet_llm_fallbacks", "Model answers replaced by the offline one, by task and reason.",
                        ("task", "reason"))
OUTBOX = Gauge("unmeet_outbox_jobs", "Jobs in the outbox by kind and state (read from the database at scrape "
               "time: every instance reports the same shared queue).", ("kind", "state"))

_job_kinds: frozenset[str] = frozenset()


def known_job_kinds(kinds) -> None:
    """The job kinds this process has handlers for (core/bootstrap.py): the bounded label set of jobs."""
    global _job_kinds
    _job_kinds = _job_kinds | frozenset(kinds)


def request(endpoint: str, kind: str | None, status: int, seconds: float) -> str:
    """Count one platform request; returns its kind as counted (safe to log: one of a known few)."""
    endpoint = bounded(endpoint, ENDPOINTS)
    kind = "none" if kind is None else bounded(kind, REQUEST_KINDS)  # none: a page (OAuth), not a payload
    REQUESTS.labels(endpoint, kind, str(status) if 100 <= status < 600 else OTHER).inc()
    ACK_SECONDS.labels(endpoint, kind).observe(seconds)
    return kind


def job_started(kind: str, lag_seconds: float) -> None:
    JOB_LAG.labels(bounded(kind, _job_kinds)).observe(max(0.0, lag_seconds))


def job_finished(kind: str, outcome: str, seconds: float) -> None:
    kind = bounded(kind, _job_kinds)
    JOB_OUTCOME.labels(kind, bounded(outcome, JOB_OUTCOMES)).inc()
    JOB_SECONDS.labels(kind).observe(seconds)


def platform_call(platform: str, method: str) -> None:
    PLATFORM_CALLS.labels(platform, bounded(method, SLACK_METHODS if platform == "slack" else TEAMS_METHODS)).inc()


def rate_limited(platform: str, method: str) -> None:
    RATE_LIMITED.labels(platform, bounded(method, SLACK_METHODS if platform == "slack" else TEAMS_METHODS)).inc()


def llm_call(prompt_id: str, ok: bool, tokens_in: int = 0, tokens_out: int = 0) -> None:
    task = bounded(prompt_id.split("/", 1)[0], LLM_TASKS)
    LLM_CALLS.labels(task, "ok" if ok else "error").inc()
    if tokens_in:
        LLM_TOKENS.labels(task, "in").inc(tokens_in)
    if tokens_out:
        LLM_TOKENS.labels(task, "out").inc(tokens_out)


def llm_fallback(task: str, reason: str) -> None:
    LLM_FALLBACKS.labels(bounded(task, LLM_TASKS), bounded(reason, LLM_FALLBACK_REASONS)).inc()


def _state():
    """A pending job is running while a worker's lease holds it, due once its time came, else scheduled."""
    held = sa.and_(jobs.c.locked_until.is_not(None), jobs.c.locked_until >= sa.bindparam("now"))
    return sa.case((jobs.c.status == "dead", "dead"), (held, "running"),
                   (jobs.c.due_at <= sa.bindparam("now"), "due"), else_="scheduled")


async def refresh_outbox(db: Database, now: datetime) -> None:
    """Count the outbox by kind and state: pending and dead rows only (done rows are most of the table and
    say nothing about depth); one grouped statement on the (status, due_at) index."""
    rows = sa.select(jobs.c.kind, _state().label("state")).where(jobs.c.status.in_(("pending", "dead"))).subquery()
    query = sa.select(rows.c.kind, rows.c.state, sa.func.count()).group_by(rows.c.kind, rows.c.state)
    async with db.transaction() as conn:
        rows = (await conn.execute(query, {"now": now})).all()
    counts: dict[tuple[str, str], int] = {(kind, state): 0 for kind in _job_kinds for state in OUTBOX_STATES}
    for kind, state, count in rows:
        key = (bounded(kind, _job_kinds), state)
        counts[key] = counts.get(key, 0) + count
    OUTBOX.clear()
    for (kind, state), count in counts.items():
        OUTBOX.labels(kind, state).set(count)


def exposition(registry: CollectorRegistry = REGISTRY) -> tuple[bytes, str]:
    """The registry in Prometheus' text format, and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
