"""The real `unmeet serve` in a subprocess, against the loopback fake of the Slack Web API.

One server per test module (starting one costs about a second), on the module-scoped
`module_database_url` from tests/conftest.py: SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import aiohttp

from core.persistence.db import Database
from tests.fakes import slack_requests
from tests.fakes.processes import clean_env, free_port, run_due
from tests.fakes.slack_api import FakeSlackApi

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-test"


def server_env(**overrides: str) -> dict[str, str]:
    # The fake enforces Slack's limits where a test cares (429 + Retry-After); the app's own pacing at
    # Slack's real rates would only make a 300-member fan-out take minutes. benchmarks/fanout.py
    # measures the pacing itself.
    return clean_env(**{"SLACK_RATE_SCALE": "1000", **overrides})


@dataclass
class Server:
    """A running `unmeet serve` and the fake Slack it talks to."""

    slack: FakeSlackApi
    url: str
    env: dict[str, str]
    database_url: str
    process: asyncio.subprocess.Process
    session: aiohttp.ClientSession
    log_path: Path
    db: Database = field(init=False)

    def __post_init__(self):
        self.db = Database(self.database_url)

    async def post(self, signed: tuple[bytes, dict[str, str]]) -> tuple[int, str]:
        body, headers = signed
        async with self.session.post(f"{self.url}/slack/events", data=body, headers=headers) as response:
            return response.status, await response.text()

    async def command(self, user: str, channel: str, text: str = "") -> tuple[int, str]:
        return await self.post(slack_requests.slash_command("/share-insight", text, user_id=user, channel_id=channel,
                                                            trigger_id=self.slack.new_trigger_id(user)))

    async def press(self, user: str, value: str, channel: str, action: str = "round.answer") -> tuple[int, str]:
        return await self.post(slack_requests.block_action(action, value, user_id=user, channel_id=channel,
                                                           trigger_id=self.slack.new_trigger_id(user)))

    async def submit(self, user: str, view: dict, values: dict[str, object]) -> tuple[int, dict | None]:
        """Submit `view` as Slack would, with the person's `values` (input id -> value) over the
        view's initial values."""
        status, text = await self.post(slack_requests.view_submission(submission(view, values), user_id=user))
        return status, (json.loads(text) if text.strip() else None)

    async def run_due(self, now: datetime) -> str:
        """`unmeet jobs run-due --now …`: move time for due jobs, as an operator would."""
        return await run_due(self.env, now)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def submission(view: dict, values: dict[str, object]) -> dict:
    """`view.state.values` for a submitted modal: every input's initial value unless overridden."""
    state: dict[str, dict] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        kind, block_id, action_id = element["type"], block["block_id"], element["action_id"]
        value = values.get(block_id, _initial(element))
        if kind == "plain_text_input":
            entry = {"type": kind, "value": value}
        elif kind == "datepicker":
            entry = {"type": kind, "selected_date": str(value) if value else None}
        elif kind in ("radio_buttons", "static_select"):
            entry = {"type": kind, "selected_option": {"value": value, "text": {"type": "plain_text", "text": "x"}}
                     if value else None}
        elif kind == "conversations_select":
            entry = {"type": kind, "selected_conversation": value}
        else:
            raise AssertionError(kind)
        state[block_id] = {action_id: entry}
    return {"callback_id": view["callback_id"], "private_metadata": view.get("private_metadata", ""),
            "state": {"values": state}}


def _initial(element: dict):
    return (element.get("initial_value") or element.get("initial_date")
            or (element.get("initial_option") or {}).get("value") or element.get("initial_conversation"))


async def start_server(slack: FakeSlackApi, database_url: str, log_dir: Path, *, worker: bool = True,
                       **settings: str) -> Server:
    """`unmeet serve` (without `worker`: `--no-worker`, so what it queues waits for another process)."""
    port = free_port()
    env = server_env(SLACK_API_URL=slack.base_url, DATABASE_URL=database_url, HOST="127.0.0.1", PORT=str(port),
                     JOB_POLL_SECONDS="0.1", **settings)
    log_path = log_dir / f"serve-{port}.log"
    log_file = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "unmeet", "serve", "--no-migrate",
                                                   *([] if worker else ["--no-worker"]), cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
    url = f"http://127.0.0.1:{port}"
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        if process.returncode is not None:
            await session.close()
            raise AssertionError(f"unmeet serve exited: {log_path.read_text()}")
        try:
            async with session.get(f"{url}/healthz") as response:
                if response.status == 200:
                    break
        except aiohttp.ClientError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"unmeet serve did not answer /healthz: {log_path.read_text()}")
        await asyncio.sleep(0.05)
    return Server(slack, url, env, database_url, process, session, log_path)


@asynccontextmanager
async def serving(slack: FakeSlackApi, database_url: str, log_dir: Path, **settings: str) -> AsyncIterator[Server]:
    """`unmeet serve` for a test module's fixture: started, handed over, always stopped."""
    server = await start_server(slack, database_url, log_dir, **settings)
    try:
        yield server
    finally:
        await stop_server(server)


async def stop_server(server: Server) -> None:
    await server.session.close()
    await server.db.dispose()
    if server.process.returncode is None:
        server.process.terminate()
        try:
            await asyncio.wait_for(server.process.wait(), 10)
        except TimeoutError:
            server.process.kill()
            await server.process.wait()
