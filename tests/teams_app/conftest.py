"""The real `unmeet serve` in a subprocess, with the loopback fake Bot Connector as the activities'
`serviceUrl`: what botbuilder sends back (replies, proactive messages, updates, roster reads) lands
there over real HTTP. `teams_here` runs the adapter in the test's own process instead."""

from __future__ import annotations

import asyncio
import sys
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from core.persistence.db import Database
from tests.fakes.bot_connector import DEFAULT_TENANT_ID, FakeBotConnector
from tests.fakes.cards import assert_valid_card
from tests.fakes.processes import clean_env, free_port, run_due
from tests.fakes.teams_activities import CHANNEL_ID, TEAM_ID, Person, bot_added_to_team, post_activity

ROOT = Path(__file__).resolve().parents[2]
CARD = "application/vnd.microsoft.card.adaptive"


server_env = clean_env


def card_of(activity: dict) -> dict | None:
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == CARD:
            return attachment["content"]
    return None


def card_text(activity: dict) -> str:
    """Every TextBlock, input label and button title of the card, one per line."""
    card = card_of(activity) or {}
    out: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("text", "label", "title"):
                if isinstance(node.get(key), str):
                    out.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(out)


def inputs(card: dict) -> dict[str, str]:
    return {e["id"]: e.get("value", "") for e in card["body"] if e["type"].startswith("Input.")}


def submit_data(card: dict, title: str | None = None) -> dict:
    """The data of the card's Action.Submit (the first, or the one with `title`)."""
    actions = list(card.get("actions", []))
    for element in card["body"]:
        actions += element.get("actions", []) if element["type"] == "ActionSet" else []
    for action in actions:
        if action["type"] == "Action.Submit" and (title is None or action["title"] == title):
            return dict(action["data"])
    raise AssertionError(f"no Action.Submit {title or ''} in {card}")


@dataclass
class World:
    connector: FakeBotConnector
    url: str
    env: dict[str, str]
    database_url: str
    process: asyncio.subprocess.Process
    log_path: Path
    db: Database = field(init=False)

    def __post_init__(self):
        self.db = Database(self.database_url)

    async def send(self, activity: dict) -> int:
        status, body = await post_activity(f"{self.url}/api/messages", activity)
        assert status < 500, (status, body, self.log())
        return status

    async def run_due(self, now: datetime) -> str:
        """`unmeet jobs run-due --now …`: move time for due jobs, as an operator would."""
        return await run_due(self.env, now)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_every_card_valid(self) -> int:
        cards = [card_of(a) for a in self.connector.all_activities()]
        for card in filter(None, cards):
            assert_valid_card(card)
        return len([c for c in cards if c])


async def start(connector: FakeBotConnector | None, database_url: str, log_dir: Path, **settings: str) -> World:
    port = int(settings.pop("PORT", 0)) or free_port()
    env = server_env(**{"DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
                        "JOB_POLL_SECONDS": "0.1", **settings})
    log_path = log_dir / f"serve-{port}.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "unmeet", "serve", "--no-migrate",
                                                       cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    deadline = asyncio.get_running_loop().time() + 30
    async with aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"unmeet serve exited: {log_path.read_text()}")
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, log_path.read_text()
            await asyncio.sleep(0.05)
    return World(connector, url, env, database_url, process, log_path)


async def stop(world: World) -> None:
    await world.db.dispose()
    if world.process.returncode is None:
        world.process.terminate()
        try:
            await asyncio.wait_for(world.process.wait(), 10)
        except TimeoutError:
            world.process.kill()
            await world.process.wait()


ANN = Person("Ann Peeters", locale="en-US")
BOB = Person("Bob Jansen")
CEM = Person("Cem Yilmaz", locale="nl-BE")
DIRK = Person("Dirk Maes")
EVA = Person("Eva Claes")


@pytest.fixture
async def world(database_url, tmp_path):
    """A team of five in a channel, the app installed in it, `unmeet serve` running."""
    async with FakeBotConnector(speedup=20) as connector:
        connector.add_team(TEAM_ID, members=[p.member() for p in (ANN, BOB, CEM, DIRK, EVA)],
                           channels=[{"id": CHANNEL_ID, "name": "Reflections"}], name="Product team")
        world = await start(connector, database_url, tmp_path)
        try:
            await world.send(bot_added_to_team(connector.service_url, added_by=ANN))
            yield world
        finally:
            await stop(world)


@asynccontextmanager
async def teams_here(database_url: str, connector: FakeBotConnector, *, installed_by: Person = ANN):
    """Core and the Teams adapter in this process (botbuilder in local mode, no HTTP in), the app installed
    in the team: yields (deps, the TeamsAdapter)."""
    from botbuilder.schema import Activity

    from core.bootstrap import build_deps
    from core.config import Settings
    from teams_app import TeamsAdapter

    deps = build_deps(Settings(database_url=database_url))
    teams = TeamsAdapter(deps)
    deps.messengers["teams"] = teams.messenger
    try:
        install = Activity().deserialize(bot_added_to_team(connector.service_url, added_by=installed_by))
        await teams.adapter.process_activity("", install, teams.bot.on_turn)
        yield deps, teams
    finally:
        await deps.close()


async def share_round_here(database_url: str, connector: FakeBotConnector, *, author: Person = ANN) -> None:
    """A round shared in the team's General channel from this process (`teams_here`; the roster read is
    the one request to `connector`): what is left are the jobs that post the round and DM everyone, for
    the `unmeet` processes a test starts next."""
    from core.domain.refs import PersonRef, WorkspaceRef
    from core.domain.rounds import ShareInput
    from core.services import rounds

    async with teams_here(database_url, connector, installed_by=author) as (deps, _):
        result = await rounds.share_insight(deps, author=PersonRef(WorkspaceRef("teams", DEFAULT_TENANT_ID), author.id),
                                            data=ShareInput(title="Deep work", link="https://example.com/deep-work",
                                                            questions=("a?", "b?", "c?"), channel_id=TEAM_ID,
                                                            deadline=date.today() + timedelta(days=7)))
        assert isinstance(result, rounds.Done), result
