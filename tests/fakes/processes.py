"""Starting real `unmeet` processes from tests and benchmarks: a free loopback port, and an
environment with only the settings the caller gives (none leak in from the shell running the tests)."""

from __future__ import annotations

import os
import socket

APP_SETTINGS = ("SLACK_", "MICROSOFT_", "TEAMS_", "OPENAI_", "UNMEET_", "DATABASE_URL", "HOST", "PORT", "JOB_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_SETTINGS)}
    env.update(overrides)
    return env
