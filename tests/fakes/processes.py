"""Starting real `unmeet` processes from tests and benchmarks: a free loopback port, and an
environment with only the settings the caller gives (none leak in from the shell running the tests)."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_SETTINGS = ("SLACK_", "MICROSOFT_", "TEAMS_", "OPENAI_", "UNMEET_", "DATABASE_URL", "HOST", "PORT", "JOB_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_SETTINGS)}
    env.update(overrides)
    return env


async def run_due(env: dict[str, str], now: datetime) -> str:
    """`unmeet jobs run-due --now …` in its own process: move time for due jobs, as an operator would."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "unmeet", "jobs", "run-due", "--now", now.isoformat(), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    return output.decode()
