"""Run the Microsoft 365 Agents Playground headless against a bot, and drive it over HTTP.

The Playground (npm `@microsoft/m365agentsplayground`, pinned in package.json) is a local
Teams-like client with its own mocked Bot Connector: a real second implementation of the
channel, so a test through it catches what our own fake might share with our own code.
It sends activities without a token, so the bot must run with no app id.

    if not Playground.available():
        pytest.skip(Playground.unavailable_reason())
    async with Playground("http://127.0.0.1:3978/api/messages") as pg:
        sent = await pg.send(pg.channel_id, "share insight", mention_bot=True)
        await pg.wait_for(lambda: pg.bot_messages(sent["postConversationId"]))

Kept off the internet and off the network: both telemetry switches are set, no browser is
opened, its log goes to a temporary file, and a small preload makes its server listen on
127.0.0.1 (the CLI has no host option and otherwise listens on every interface).
See tests/fakes/PLAYGROUND.md for what works and what does not.
"""

import asyncio
import contextlib
import json
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import aiohttp

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
CLI = REPO_ROOT / "node_modules" / ".bin" / "agentsplayground"
CONFIG_FILE = REPO_ROOT / ".m365agentsplayground.yml"

# Loaded with `node --require`: bind every server the Playground starts to loopback.
_LOOPBACK_PRELOAD = """
const net = require("net");
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === "number" && typeof args[1] !== "string") {
    args.splice(1, args[1] === undefined ? 1 : 0, "127.0.0.1");
  } else if (args[0] && typeof args[0] === "object" && args[0].port !== undefined && !args[0].host) {
    args[0] = { ...args[0], host: "127.0.0.1" };
  }
  return listen.apply(this, args);
};
"""


class Playground:
    """One Playground process for one bot endpoint; state lives in its memory only."""

    def __init__(self, bot_url: str, *, startup_timeout: float = 30) -> None:
        self.bot_url = bot_url
        self.startup_timeout = startup_timeout
        self.port = 0
        self.base_url = ""
        self.config: dict = {}
        self.conversation_events: list[dict] = []  # what the bot sent, as the web page sees it
        self.log_events: list[dict] = []  # every activity both ways, plus status lines
        self.output: list[str] = []  # the process's stdout/stderr lines
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task] = []
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._changed = asyncio.Event()

    # -- availability ------------------------------------------------------------------------

    @staticmethod
    def unavailable_reason() -> str | None:
        """Why the Playground cannot run here, or None when it can."""
        if shutil.which("node") is None:
            return "Node.js is not installed (needed for the Agents Playground)"
        if not CLI.exists():
            return "node_modules is missing: run `npm ci` in the repository root"
        if not CONFIG_FILE.exists():
            return f"{CONFIG_FILE.name} is missing in the repository root"
        return None

    @classmethod
    def available(cls) -> bool:
        return cls.unavailable_reason() is None

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> "Playground":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        reason = self.unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self._tmp = tempfile.TemporaryDirectory(prefix="playground-")
        preload = Path(self._tmp.name) / "loopback.js"
        preload.write_text(_LOOPBACK_PRELOAD)
        requested = _free_port()
        env = {
            **os.environ,
            "TEAMSAPPTESTER_BROWSER": "none",
            "APPLICATION_INSIGHTS_NO_STATSBEAT": "true",
            "M365_AGENTS_PLAYGROUND_CONFIG_PATH": str(CONFIG_FILE),
            "M365_AGENTS_PLAYGROUND_LOGFILE": str(Path(self._tmp.name) / "playground.log"),
            "NODE_OPTIONS": f"--require={preload}",
        }
        self._process = await asyncio.create_subprocess_exec(
            str(CLI), "-e", self.bot_url, "-c", "msteams", "-p", str(requested), "--dt",
            "--service-url", f"http://127.0.0.1:{requested}/_connector",
            cwd=REPO_ROOT, env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            self.port = await asyncio.wait_for(self._read_port(), self.startup_timeout)
            if self.port != requested:
                raise RuntimeError(f"Playground took port {self.port}, not {requested}: serviceUrl would be wrong")
            self.base_url = f"http://127.0.0.1:{self.port}"
            self._tasks.append(asyncio.create_task(self._drain_output()))
            self._session = aiohttp.ClientSession()
            self.config = await asyncio.wait_for(self._ready(), self.startup_timeout)
            for path, sink in (
                ("/_ws_conversation/v1/conversations/stream", self.conversation_events),
                ("/_ws/log/stream", self.log_events),
            ):
                connected = asyncio.Event()
                self._tasks.append(asyncio.create_task(self._collect(path, sink, connected)))
                await asyncio.wait_for(connected.wait(), self.startup_timeout)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 5)
            except asyncio.TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._process = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # -- ids from the config -----------------------------------------------------------------

    @property
    def bot_id(self) -> str:
        return self.config["bot"]["id"]

    @property
    def bot_name(self) -> str:
        return self.config["bot"]["name"]

    @property
    def current_user_id(self) -> str:
        return self.config["currentUser"]["id"]

    @property
    def personal_chat_id(self) -> str:
        return self.config["personalChat"]["id"]

    @property
    def group_chat_id(self) -> str:
        return self.config["groupChats"][0]["id"]

    @property
    def team_id(self) -> str:
        return self.config["teams"][0]["id"]

    @property
    def channel_id(self) -> str:
        """The channel besides General (General's id is the team id)."""
        return next(c["id"] for c in self.config["teams"][0]["channels"] if c["id"] != self.team_id)

    # -- acting as the user ------------------------------------------------------------------

    async def send(
        self, conversation_id: str, text: str, mention_bot: bool = False, from_id: str | None = None
    ) -> dict:
        """Post a user message; returns `{messageId, postConversationId, timestamp}`.

        In a channel a new post starts a thread: the bot sees `postConversationId`
        (`<channel>;messageid=<messageId>`) as the conversation id.
        """
        body: dict[str, Any] = {"from": {"id": from_id or self.current_user_id}, "textFormat": "plain"}
        if mention_bot:
            mention = f"<at>{self.bot_name}</at>"
            text = f"{mention} {text}"
            body["mentions"] = [{"mentioned": {"id": self.bot_id}, "text": mention}]
        body["text"] = text
        return await self._post(f"/_conversation/v1/conversations/{quote(conversation_id, safe='')}/messages", body)

    async def submit(
        self, conversation_id: str, reply_to_id: str, value: dict, from_id: str | None = None
    ) -> None:
        """Press an Action.Submit on the card message `reply_to_id` (the bot gets `value`)."""
        await self._post("/_conversation/v1/submit", {
            "conversation": {"id": conversation_id},
            "from": {"id": from_id or self.current_user_id},
            "replyToId": reply_to_id,
            "value": value,
        })

    async def invoke(
        self, conversation_id: str, reply_to_id: str, value: dict,
        name: str = "adaptiveCard/action", from_id: str | None = None,
    ) -> Any:
        """Send an invoke (Action.Execute by default); returns the bot's invoke response."""
        return await self._post("/_conversation/v1/invoke", {
            "name": name,
            "conversation": {"id": conversation_id},
            "from": {"id": from_id or self.current_user_id},
            "replyToId": reply_to_id,
            "value": value,
        })

    # -- what the bot did --------------------------------------------------------------------

    def bot_messages(self, conversation_id: str | None = None, action: str = "createMessage") -> list[dict]:
        """Messages the bot created (or updated) as the client shows them, optionally in one conversation."""
        return [
            event["message"] for event in self.conversation_events
            if event.get("action") == action
            and (conversation_id is None or event.get("actionConversationId") == conversation_id)
        ]

    def activities_to_bot(self) -> list[dict]:
        """Activity bodies the Playground posted to the bot, from the log stream."""
        return [
            event["log"]["request"]["body"] for event in self.log_events
            if event.get("log", {}).get("to") == "User Application" and "request" in event["log"]
        ]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10) -> Any:
        """Wait until `predicate()` is truthy (checked on every websocket event); return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._changed.clear()
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                tail = "\n  ".join(json.dumps(e)[:300] for e in self.conversation_events[-5:])
                raise AssertionError(f"condition not met within {timeout}s; last conversation events:\n  {tail}")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    # -- plumbing ----------------------------------------------------------------------------

    async def _post(self, path: str, body: dict) -> Any:
        async with self._session.post(self.base_url + path, json=body) as response:
            text = await response.text()
            if response.status >= 400:
                raise RuntimeError(f"Playground answered {response.status} to {path}: {text[:500]}")
            return json.loads(text) if text else None

    async def _read_port(self) -> int:
        while True:
            line = await self._process.stdout.readline()
            if not line:
                raise RuntimeError("Playground exited before listening:\n" + "\n".join(self.output))
            text = line.decode(errors="replace").rstrip()
            self.output.append(text)
            if text.startswith("Listening on "):
                return int(text.split()[-1])

    async def _drain_output(self) -> None:
        while line := await self._process.stdout.readline():
            self.output.append(line.decode(errors="replace").rstrip())

    async def _ready(self) -> dict:
        """`/_internal/v1/config` answers once the Playground has reached the bot endpoint."""
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with self._session.get(f"{self.base_url}/_internal/v1/config") as response:
                    if response.status == 200:
                        return (await response.json())["config"]
            await asyncio.sleep(0.1)

    async def _collect(self, path: str, sink: list[dict], connected: asyncio.Event) -> None:
        async with self._session.ws_connect(self.base_url + path) as ws:
            connected.set()
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    sink.append(json.loads(message.data))
                    self._changed.set()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
