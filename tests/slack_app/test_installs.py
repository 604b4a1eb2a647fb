"""Installs into many workspaces ("Add to Slack", OAuth v2), end to end: the real `unmeet serve` with
UNMEET_SLACK_CLIENT_ID/SECRET and no SLACK_BOT_TOKEN, over real HTTP, against the fake Slack holding
two workspaces whose tokens only work in their own workspace (reliability.md 5, 7, 8)."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.persistence.tables import workspaces
from core.persistence.tables_installations import installations
from slack_app.installs import BOT_SCOPES
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import free_port, server_env, serving
from tests.slack_app.test_events_and_startup import run_serve
from tests.slack_app.test_round import answer_button, share, top_level

pytestmark = pytest.mark.asyncio(loop_scope="module")

A, B = "T1", "T2"
TOKEN_A, TOKEN_B = "xoxb-team-a", "xoxb-team-b"
COOKIE = "slack-app-oauth-state"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    # The fake's own first token is never given to the app: every token it uses comes from an install.
    async with FakeSlackApi("xoxb-not-given-to-the-app", team_name="Team A") as slack:
        for uid, name in (("U1", "Lotte Peeters"), ("U2", "Ann Smith"), ("U3", "Bart Jansens")):
            slack.add_user(uid, name.split()[0].lower(), name)
        slack.add_channel("C1", "team-a", members=["U1", "U2", "U3"])
        slack.add_team(B, "Team B", bot_user_id="UBOTB", bot_id="BBOTB")
        slack.add_user("V1", "vera", "Vera Claes", team_id=B, locale="nl-BE")
        slack.add_user("V2", "wim", "Wim Maes", team_id=B)
        slack.add_channel("C9", "team-b", members=["V1", "V2"], team_id=B)
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           UNMEET_SLACK_CLIENT_ID=slack.client_id,
                           UNMEET_SLACK_CLIENT_SECRET=slack.client_secret,
                           SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def start_install(server, **headers) -> tuple[dict[str, list[str]], str]:
    """`GET /slack/install`: the authorisation URL's query, and the state cookie it set."""
    async with server.session.get(f"{server.url}/slack/install", allow_redirects=False, headers=headers) as response:
        assert response.status == 302
        location = response.headers["Location"]
        cookie = response.cookies[COOKIE].value
    assert location.startswith("https://slack.com/oauth/v2/authorize?")
    return parse_qs(urlsplit(location).query), cookie


async def callback(server, cookie: str | None = None, headers: dict | None = None, **query) -> tuple[int, str]:
    headers = {**(headers or {}), **({"Cookie": f"{COOKIE}={cookie}"} if cookie else {})}
    async with server.session.get(f"{server.url}/slack/oauth_redirect", params=query, headers=headers) as response:
        return response.status, await response.text()


async def install(server, team: str, installer: str, token: str, **headers) -> str:
    """The whole "Add to Slack" in one browser: start, Slack's consent (the fake mints the code), the callback."""
    query, cookie = await start_install(server, **headers)
    assert query["client_id"] == [server.slack.client_id]
    server.slack.add_install_code(f"code-{token}", team, installer, token, query["scope"][0])
    status, page = await callback(server, cookie, headers, code=f"code-{token}", state=query["state"][0])
    assert status == 200, page
    return page


async def stored(server) -> dict[str, str]:
    """Installed workspaces -> their stored (encrypted) token."""
    async with server.db.transaction() as conn:
        rows = await conn.execute(sa.select(workspaces.c.external_id, installations.c.bot_token_encrypted)
                                  .join(workspaces, workspaces.c.id == installations.c.workspace_id))
        return dict(rows.all())


async def test_each_workspace_installs_and_its_token_is_stored_encrypted(server):
    query, _ = await start_install(server)
    assert sorted(query["scope"][0].split(",")) == sorted(BOT_SCOPES)
    assert query["state"][0].startswith("install.")
    page = await install(server, A, "U1", TOKEN_A)
    assert "installed in Team A" in page
    page = await install(server, B, "V1", TOKEN_B, **{"Accept-Language": "nl-BE,nl;q=0.9"})
    assert "geïnstalleerd in Team B" in page
    tokens = await stored(server)
    assert set(tokens) == {A, B}
    assert not any("xoxb" in value for value in tokens.values())


async def share_form(server, team: str, user: str, channel: str) -> tuple[dict, str]:
    """A signed /share-insight from `user` in `team`: the form Slack was asked to open, and the token
    it was asked with (the fake refuses another workspace's token for this person's trigger)."""
    slack = server.slack
    before = len(slack.calls_to("views.open"))
    status, _ = await server.post(slack_requests.slash_command(
        "/share-insight", user_id=user, channel_id=channel, team_id=team, trigger_id=slack.new_trigger_id(user)))
    assert status == 200
    await slack.wait_for(lambda: len(slack.calls_to("views.open")) > before)
    call = slack.calls_to("views.open")[-1]
    assert call.ok, call.error
    return call.params["view"], call.token


async def test_requests_from_each_workspace_run_with_that_workspaces_token(server):
    view, token = await share_form(server, A, "U1", "C1")
    assert token == TOKEN_A and view["title"]["text"] == "Share an insight"
    view, token = await share_form(server, B, "V1", "C9")
    # Vera's language (nl-BE) comes from B's directory, read with B's token.
    assert token == TOKEN_B and view["title"]["text"] == "Deel een inzicht"


async def test_a_rounds_posts_and_dms_in_a_go_with_as_token(server):
    slack = server.slack
    round_id = await share(server, "C1", title="Round in A")
    await slack.wait_for(lambda: all(slack.dms(u) for u in ("U2", "U3")))
    assert answer_button(slack.dms("U2")[0])["value"] == round_id
    sends = [c for c in slack.calls_to("chat.postMessage") if c.params.get("channel") in ("C1", "U2", "U3")]
    assert sends and {c.token for c in sends} == {TOKEN_A} and all(c.ok for c in sends)
    assert answer_button(top_level(server, "C1")[0])


@pytest.mark.parametrize("case", ["forged state", "no cookie (another browser)", "no state", "state used twice"])
async def test_a_callback_without_its_own_valid_state_is_refused_and_stores_nothing(server, case):
    slack = server.slack
    before = await stored(server)
    token = f"xoxb-stolen-{case.split()[0]}"
    code = f"code-{token}"
    if case == "state used twice":
        query, cookie = await start_install(server)
        slack.add_install_code("code-first", B, "V2", TOKEN_B, query["scope"][0])  # B installed again, same bot
        assert (await callback(server, cookie, code="code-first", state=query["state"][0]))[0] == 200
        before = await stored(server)
        slack.add_install_code(code, A, "U2", token, query["scope"][0])
        status, page = await callback(server, cookie, code=code, state=query["state"][0])
    else:
        query, cookie = await start_install(server)
        slack.add_install_code(code, A, "U2", token, query["scope"][0])
        if case == "forged state":
            status, page = await callback(server, "install.forged", code=code, state="install.forged")
        elif case == "no cookie (another browser)":
            status, page = await callback(server, None, code=code, state=query["state"][0])
        else:
            status, page = await callback(server, cookie, code=code)
    assert status in (400, 401), page
    assert not any(c.params.get("code") == code for c in slack.calls_to("oauth.v2.access"))
    assert slack.team_of_token(token) is None  # the code was never exchanged
    assert await stored(server) == before


async def deliver_twice(server, event_id: str, event: dict, team: str) -> None:
    """An event from `team`, and Slack's retry of it."""
    for retry in (None, 1):
        status, _ = await server.post(slack_requests.event(event, event_id, team_id=team, retry_num=retry))
        assert status == 200


async def wait_until(predicate, timeout: float = 10.0):
    for _ in range(int(timeout / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def test_uninstall_deletes_that_workspaces_token_only_and_twice_is_the_same(server):
    slack = server.slack
    await deliver_twice(server, "EvUninstallA1", {"type": "app_uninstalled"}, A)
    await wait_until(lambda: _installed(server, {B}))
    before = dict(await stored(server))
    # Delivered again under another event id (Slack sends tokens_revoked beside it): the same result.
    await deliver_twice(server, "EvUninstallA2", {"type": "app_uninstalled"}, A)
    await deliver_twice(server, "EvRevokedA", {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}, A)
    await asyncio.sleep(0.3)
    assert await stored(server) == before and set(before) == {B}

    # A's requests are refused with a sentence; B works as before, with B's token.
    opened = len(slack.calls_to("views.open"))
    status, _ = await server.post(slack_requests.slash_command(
        "/share-insight", user_id="U1", channel_id="C1", team_id=A, trigger_id=slack.new_trigger_id("U1"),
        response_url=slack.response_url()))
    assert status == 200
    refusal = await slack.wait_for(lambda: slack.responses)
    assert "isn't installed in this workspace" in refusal[-1]["text"]
    assert len(slack.calls_to("views.open")) == opened
    assert (await share_form(server, B, "V1", "C9"))[1] == TOKEN_B

    # Installed again, A's new token is used at once, by requests and by jobs (nothing stale kept in memory).
    await install(server, A, "U1", "xoxb-team-a-again")
    assert (await share_form(server, A, "U1", "C1"))[1] == "xoxb-team-a-again"
    sent = len(slack.calls_to("chat.postMessage"))
    await share(server, "C1", title="After the reinstall")
    await slack.wait_for(lambda: len([c for c in slack.calls_to("chat.postMessage")[sent:] if c.ok]) >= 3)
    assert {c.token for c in slack.calls_to("chat.postMessage")[sent:]} == {"xoxb-team-a-again"}

    # B revokes the bot's token: only B's installation goes.
    await deliver_twice(server, "EvRevokedB", {"type": "tokens_revoked", "tokens": {"bot": ["UBOTB"]}}, B)
    await wait_until(lambda: _installed(server, {A}))


async def _installed(server, teams: set[str]) -> bool:
    return set(await stored(server)) == teams


async def test_no_token_or_secret_reaches_the_logs(server):
    log = server.log()
    assert "installed the app" in log and "bot token is deleted" in log  # the log did see all of it
    for secret in ("xoxb-", "xoxp-", server.slack.client_secret, slack_requests.SIGNING_SECRET):
        assert secret not in log


async def test_installs_refuse_to_start_without_a_signing_secret(tmp_path):
    code, output = await run_serve(server_env(UNMEET_SLACK_CLIENT_ID="111.222", UNMEET_SLACK_CLIENT_SECRET="secret",
                                              DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", PORT=str(free_port())),
                                   wait_for_health=False)
    assert code != 0
    assert "UNMEET_SLACK_CLIENT_ID is set but SLACK_SIGNING_SECRET is empty" in output
