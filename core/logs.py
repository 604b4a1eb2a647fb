"""Logs: one line per event, plain text or JSON (UNMEET_LOG_FORMAT=json), each with the id of the request
or job it belongs to.

The ids live in context variables: a request handler sets `request_id`, the worker sets `job_id` around
each job, and asyncio copies both into every task started from there (Bolt's listeners after the ack,
a job's follow-ups), so each line says what it is part of without passing anything around.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import datetime, timezone

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)

_PROCESS = uuid.uuid4().hex[:6]  # request ids are unique across instances without asking anyone
_COUNTER = itertools.count(1)
_INCOMING = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # a load balancer's X-Request-Id, if it looks like one


def new_request_id(incoming: str | None = None) -> str:
    """This request's id: the load balancer's X-Request-Id when it sent a plain one, else a new one.
    Sets it for everything the request runs (also after the ack)."""
    value = incoming if incoming and _INCOMING.match(incoming) else f"{_PROCESS}-{next(_COUNTER)}"
    request_id.set(value)
    return value


def _context() -> dict[str, str]:
    found = {}
    if (value := request_id.get()) is not None:
        found["request_id"] = value
    if (value := job_id.get()) is not None:
        found["job_id"] = value
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id / job_id, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                **_context()}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [request_id=…]: message`; an exception's traceback on the lines after it."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.context = "".join(f" [{key}={value}]" for key, value in _context().items())
        return super().format(record)


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """The root logger writes to standard error in `log_format` ("json" or "text")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format.lower() == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin at every start
