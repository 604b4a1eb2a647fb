"""Slack token rotation, end to end: the real `unmeet serve` with "Add to Slack" installs, over real
HTTP, against the fake Slack with token rotation on (tokens that expire after 12 hours, refresh tokens
that work once, `token_expired` for a token past its expiry). A bot token and a person's own token are
renewed before they expire, once across instances, and a call Slack refuses as expired is sent once
more with the renewed token."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio
import sqlalchemy as sa
from slack_sdk.web.async_client import AsyncWebClient

from core.bootstrap import build_deps
from core.config import Settings
from core.domain.rounds import deadline_instant
from core.domain.refs import WorkspaceRef
from core.persistence.db import Database
from core.persistence.tables import members, workspaces
from core.persistence.tables_focus import user_tokens
from core.persistence.tables_installations import installations
from core.ports import SystemClock
from core.services import installations as installs_service
from core.services.installations import BotInstallation
from slack_app.bots import SlackBots
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.focus.test_slack_focus import connect, focus
from tests.slack_app.conftest import serving
from tests.slack_app.test_installs import install
from tests.slack_app.test_round import DEADLINE, TZ, open_share_form, replies, share

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEAM = "T1"
INSTALLED_TOKEN = "xoxb-rotating-install"
TWELVE_HOURS = timedelta(hours=12)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeSlackApi("xoxb-not-given-to-the-app", team_name="Team A", rotation=True) as slack:
        for uid, name in (("U1", "Lotte Peeters"), ("U2", "Ann Smith"), ("U3", "Bart Jansens")):
            slack.add_user(uid, name.split()[0].lower(), name)
        slack.add_channel("C1", "team-a", members=["U1", "U2", "U3"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           UNMEET_SLACK_CLIENT_ID=slack.client_id, UNMEET_SLACK_CLIENT_SECRET=slack.client_secret,
                           SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def bot_row(server):
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.select(installations).join(workspaces).where(
            workspaces.c.external_id == TEAM))).one()


async def set_bot_expiry(server, at: datetime) -> None:
    """As if time had passed: the stored bot token now expires at `at`."""
    async with server.db.transaction() as conn:
        await conn.execute(sa.update(installations).values(bot_token_expires_at=at))


def near(value: datetime, expected: datetime, slack: timedelta = timedelta(minutes=2)) -> bool:
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return abs(value - expected) < slack


async def test_an_install_stores_the_refresh_token_and_a_request_near_the_expiry_renews_it_once(server):
    slack = server.slack
    await install(server, TEAM, "U1", INSTALLED_TOKEN)
    row = await bot_row(server)
    assert row.bot_refresh_token_encrypted and "xoxe" not in row.bot_refresh_token_encrypted
    assert near(row.bot_token_expires_at, datetime.now(timezone.utc) + TWELVE_HOURS)
    # Fresh for 12 hours: a request uses the installed token and renews nothing.
    await open_share_form(server, "U1", "C1")
    assert slack.calls_to("views.open")[-1].token == INSTALLED_TOKEN and slack.refreshes() == []

    # Ten hours later (less than two hours left): the next request renews it, once, and uses the new token.
    await set_bot_expiry(server, datetime.now(timezone.utc) + timedelta(hours=1, minutes=59))
    await open_share_form(server, "U1", "C1")
    [refresh] = slack.refreshes()
    assert refresh.ok and refresh.params["refresh_token"].startswith("xoxe-1-")
    assert slack.calls_to("views.open")[-1].token == slack.renewed[-1] != INSTALLED_TOKEN
    row = await bot_row(server)
    assert near(row.bot_token_expires_at, datetime.now(timezone.utc) + TWELVE_HOURS)
    await open_share_form(server, "U1", "C1")
    assert len(slack.refreshes()) == 1 and slack.calls_to("views.open")[-1].token == slack.renewed[-1]


async def test_a_job_that_runs_after_the_token_would_have_expired_renews_it_first(server):
    """`run-due` is another instance whose clock says the deadline has come, days after the token's
    expiry: it renews the token before the round's closing job posts, and posts with the new one."""
    slack = server.slack
    await share(server, "C1", title="Rotation round")
    await slack.wait_for(lambda: slack.dms("U2") and slack.dms("U3"))
    refreshes, posts = len(slack.refreshes()), len(slack.calls_to("chat.postMessage"))
    await server.run_due(deadline_instant(DEADLINE, TZ) + timedelta(minutes=1))
    assert len(slack.refreshes()) == refreshes + 1
    summary = [c for c in slack.calls_to("chat.postMessage")[posts:] if c.params.get("thread_ts")]
    assert summary and all(c.ok and c.token == slack.renewed[-1] for c in summary)
    assert any(m.get("thread_ts") for m in replies(server, "C1"))


async def test_a_call_slack_refuses_as_expired_is_renewed_and_sent_once_more(server):
    slack = server.slack
    await open_share_form(server, "U1", "C1")  # settle on the stored token (the job above renewed it)
    stale = slack.calls_to("views.open")[-1].token
    slack.expire_token(stale)
    refreshes, calls = len(slack.refreshes()), len(slack.calls)
    status, _ = await server.command("U1", "C1")  # the person's /share-insight still opens the form
    assert status == 200
    [opened] = await slack.wait_for(lambda: [c for c in slack.calls[calls:] if c.method == "views.open" and c.ok])
    assert opened.params["view"]["title"]["text"] == "Share an insight"
    sent = [c for c in slack.calls[calls:] if c.method != "oauth.v2.access"]
    refused = [c for c in sent if c.token == stale]
    assert [c.error for c in refused] == ["token_expired"]  # refused once, then never sent with it again
    retried = sent[sent.index(refused[0]) + 1]
    assert (retried.method, retried.params) == (refused[0].method, refused[0].params)
    assert retried.ok and retried.token == slack.renewed[-1] != stale
    assert all(c.token == slack.renewed[-1] for c in sent[sent.index(refused[0]) + 1:])
    assert len(slack.refreshes()) == refreshes + 1
    # Jobs in this instance send with the renewed token too.
    posts = len(slack.calls_to("chat.postMessage"))
    await share(server, "C1", title="After the renewal")
    await slack.wait_for(lambda: len([c for c in slack.calls_to("chat.postMessage")[posts:] if c.ok]) >= 3)
    assert {c.token for c in slack.calls_to("chat.postMessage")[posts:]} == {slack.renewed[-1]}
    assert len(slack.refreshes()) == refreshes + 1


async def user_row(server, user: str):
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.select(user_tokens).join(members).where(members.c.external_id == user))).one()


async def test_a_persons_own_token_is_renewed_before_it_expires_and_when_slack_refuses_it(server):
    slack = server.slack
    await connect(server, "U2", "xoxp-u2-rotating")
    row = await user_row(server, "U2")
    assert row.refresh_token_encrypted and "xoxe" not in row.refresh_token_encrypted
    assert near(row.expires_at, datetime.now(timezone.utc) + TWELVE_HOURS)
    async with server.db.transaction() as conn:
        await conn.execute(sa.update(user_tokens).where(user_tokens.c.member_id == row.member_id)
                           .values(expires_at=datetime.now(timezone.utc) + timedelta(minutes=90)))
    refreshes = len(slack.refreshes())

    # Less than two hours left: the focus job renews it once and sets the status with the new token.
    await focus(server, "U2", "45m writing")
    await slack.wait_for(lambda: "U2" in slack.dnd_until)
    assert len(slack.refreshes()) == refreshes + 1
    fresh = slack.renewed[-1]
    assert fresh.startswith("xoxe.xoxp-1-")
    [profile] = [c for c in slack.calls_to("users.profile.set") if c.params["profile"]["status_text"]]
    assert profile.token == fresh and slack.profile("U2")["status_text"].startswith("Focus time until")

    # Slack refuses it as expired: renewed and the status cleared with the newer token; still connected.
    slack.expire_token(fresh)
    await focus(server, "U2", "stop")
    await slack.wait_for(lambda: slack.profile("U2")["status_text"] == "" and "U2" not in slack.dnd_until)
    assert len(slack.refreshes()) == refreshes + 2
    clears = [c for c in slack.calls_to("users.profile.set") if not c.params["profile"]["status_text"]]
    assert [(c.token, c.error) for c in clears] == [(fresh, "token_expired"), (slack.renewed[-1], None)]
    assert (await user_row(server, "U2")).refresh_token_encrypted  # the token is kept, not dropped


async def test_no_token_or_refresh_token_reaches_the_logs(server):
    log = server.log()
    assert "renewed a token in installations" in log and "renewed a token in user_tokens" in log
    for secret in ("xoxb-", "xoxp-", "xoxe", server.slack.client_secret):
        assert secret not in log


@pytest.mark.asyncio(loop_scope="function")
async def test_two_instances_renewing_at_once_ask_slack_once(database_url):
    """Two instances (each its own connection pool) find the same token due at the same moment; Slack
    takes a while to answer. One renews, the other waits for the row lock and uses the renewed token."""
    async with FakeSlackApi("xoxb-unused", rotation=True, oauth_delay=0.5) as slack:
        settings = Settings(database_url=database_url, slack_api_url=slack.base_url,
                            unmeet_slack_client_id=slack.client_id, unmeet_slack_client_secret=slack.client_secret,
                            unmeet_secret_key="k" * 32)
        assert settings.slack_installs
        instances = [build_deps(settings, clock=SystemClock(), db=Database(database_url)) for _ in range(2)]
        try:
            slack.add_install_code("code", TEAM, "U1", "xoxb-due", "commands,chat:write")
            granted = await AsyncWebClient(base_url=slack.base_url).oauth_v2_access(
                client_id=slack.client_id, client_secret=slack.client_secret, code="code")
            workspace = WorkspaceRef("slack", TEAM)
            await installs_service.save_installation(instances[0], BotInstallation(
                workspace, "UBOT", granted["access_token"], refresh_token=granted["refresh_token"],
                expires_at=datetime.now(timezone.utc) + timedelta(minutes=30)))
            found = await asyncio.gather(*(SlackBots(deps).installation(workspace) for deps in instances))
            assert len(slack.refreshes()) == 1 and slack.refreshes()[0].ok
            assert [f.bot_token for f in found] == [slack.renewed[0]] * 2
            # Both instances now read the renewed token, due in 12 hours: nobody renews again.
            again = await asyncio.gather(*(SlackBots(deps).installation(workspace) for deps in instances))
            assert [f.bot_token for f in again] == [slack.renewed[0]] * 2 and len(slack.refreshes()) == 1
        finally:
            for deps in instances:
                await deps.db.dispose()
