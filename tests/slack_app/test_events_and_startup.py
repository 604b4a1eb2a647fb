"""Events delivered twice, an uninstall and coming back, and how `unmeet serve` starts (reliability.md 3, 4, 5)."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.domain.refs import WorkspaceRef
from core.jobs import queue
from core.persistence import repository as repo
from core.persistence.tables import jobs, workspaces
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, ROOT, free_port, server_env, serving
from tests.slack_app.test_round import share

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        slack.add_user("U1", "lotte", "Lotte Peeters")
        slack.add_user("U2", "ann", "Ann Smith")
        slack.add_channel("C1", "team", members=["U1", "U2"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def pending(server, workspace: str, kinds: tuple[str, ...] | None = None) -> int:
    async with server.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, WorkspaceRef("slack", workspace), now=datetime.now(timezone.utc))
        query = sa.select(sa.func.count()).select_from(jobs).where(
            jobs.c.workspace_id == workspace_id, jobs.c.status == queue.PENDING)
        if kinds:
            query = query.where(jobs.c.kind.in_(kinds))
        return (await conn.execute(query)).scalar_one()


async def test_uninstall_cancels_that_workspaces_jobs_once_even_when_redelivered(server):
    await share(server, "C1", title="Before uninstall")
    now = datetime.now(timezone.utc)
    async with server.db.transaction() as conn:  # another workspace's work, which must survive
        other = await repo.ensure_workspace(conn, WorkspaceRef("slack", "T2"), now=now)
        await queue.enqueue(conn, "round.close", "close:other", {"round": 0}, due_at=now + timedelta(days=1),
                            now=now, workspace_id=other)
    # Wait until the fan-out has finished: the close and U2's reminder are what the round leaves
    # (the hourly digest scheduler may have queued this channel's digest too, depending on the clock).
    for _ in range(400):
        if await pending(server, "T1", ("round.close", "round.remind")) == 2 and not await pending(
                server, "T1", ("round.fan_out", "round.dm", "round.post")):
            break
        await asyncio.sleep(0.05)
    assert await pending(server, "T1", ("round.close", "round.remind")) == 2
    event = {"type": "app_uninstalled"}
    for retry in (None, 1, 2):
        status, _ = await server.post(slack_requests.event(event, "EvUninstall1", retry_num=retry))
        assert status == 200
    await asyncio.sleep(0)  # the listener runs after the ack
    for _ in range(100):
        if await pending(server, "T1") == 0:
            break
        await asyncio.sleep(0.05)
    assert await pending(server, "T1") == 0
    assert await pending(server, "T2") == 1
    await asyncio.sleep(0.3)
    assert server.log().count("workspace T1 uninstalled") == 1, server.log()


async def uninstalled(server, workspace: str) -> bool:
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.select(workspaces.c.uninstalled_at).where(
            workspaces.c.external_id == workspace))).scalar_one_or_none() is not None


async def test_an_uninstalled_workspace_is_back_with_its_next_request(server):
    status, _ = await server.post(slack_requests.event({"type": "app_uninstalled"}, "EvUninstall2"))
    assert status == 200
    for _ in range(100):
        if await uninstalled(server, "T1"):
            break
        await asyncio.sleep(0.05)
    assert await uninstalled(server, "T1") and not await uninstalled(server, "T2")
    # the token revocations Slack sends along with an uninstall don't count as being back
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U1"], "bot": []}}
    assert (await server.post(slack_requests.event(revoked, "EvRevoked2")))[0] == 200
    await asyncio.sleep(0.3)
    assert await uninstalled(server, "T1")
    # someone using the app there does (as does a new install): its jobs run again
    status, _ = await server.post(slack_requests.slash_command("/unmeet", "help"))
    assert status == 200
    assert not await uninstalled(server, "T1")
    assert "slack workspace T1 uses the app again" in server.log()


async def run_serve(env: dict[str, str], *, wait_for_health: bool) -> tuple[int | None, str]:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "unmeet", "serve", cwd=ROOT, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    if not wait_for_health:
        output, _ = await asyncio.wait_for(process.communicate(), 30)
        return process.returncode, output.decode()
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"http://127.0.0.1:{env['PORT']}/healthz") as response:
                    body = await response.json()
                    break
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
        else:
            process.kill()
            raise AssertionError((await process.communicate())[0].decode())
    process.terminate()
    output, _ = await asyncio.wait_for(process.communicate(), 15)
    return body, output.decode()


async def test_serve_refuses_a_bot_token_without_a_signing_secret(tmp_path):
    code, output = await run_serve(server_env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET="",
                                              DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", PORT=str(free_port())),
                                   wait_for_health=False)
    assert code != 0
    assert "SLACK_SIGNING_SECRET is empty" in output


async def test_serve_without_slack_says_so_and_stays_healthy(tmp_path):
    body, output = await run_serve(server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", PORT=str(free_port())),
                                   wait_for_health=True)
    assert "slack" not in body["platforms"]
    assert "Slack is disabled" in output and "SLACK_BOT_TOKEN" in output


async def test_dev_mode_runs_without_a_signing_secret_and_says_so_loudly(tmp_path):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        env = server_env(SLACK_BOT_TOKEN=BOT_TOKEN, UNMEET_DEV_MODE="true", SLACK_API_URL=slack.base_url,
                         DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", PORT=str(free_port()))
        body, output = await run_serve(env, wait_for_health=True)
    assert "slack" in body["platforms"]
    assert "NOT checked" in output
