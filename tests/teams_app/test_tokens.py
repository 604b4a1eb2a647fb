"""Teams requests' tokens with production settings (shared/reliability.md 10), through the real `unmeet
serve`: an app id set, and the signing keys served from a loopback stand-in for login.botframework.com
(`MICROSOFT_OPENID_METADATA_URL`), so botbuilder's public-cloud checks run as they do in production. The
bot's own token, for what it sends, comes from a loopback stand-in for Microsoft Entra
(`MICROSOFT_LOGIN_URL`)."""

from __future__ import annotations

import asyncio

import aiohttp
import sqlalchemy as sa

from core.persistence.tables import members, workspaces
from core.persistence.tables_teams import teams_conversations
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.bot_framework_keys import OTHER_CHANNEL_KID, FakeBotFrameworkKeys, new_key
from tests.fakes.entra_tokens import FakeEntraTokens
from tests.fakes.processes import free_port
from tests.fakes.teams_activities import TEAM_ID, bot_added_to_team, personal_conversation_id, post_activity
from tests.teams_app.conftest import ANN, BOB, CEM, share_round_here, start, stop

APP_ID = "1b4f6c2e-8d3a-4f5b-9c7e-2a1d0e3f4b5c"
OTHER_APP_ID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"


async def _stored(world) -> dict[str, int]:
    async with world.db.transaction() as conn:
        return {table.name: (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
                for table in (workspaces, members, teams_conversations)}


async def test_only_a_token_the_channel_signed_for_this_bot_is_accepted(database_url, tmp_path):
    async with FakeBotConnector() as bc, FakeBotFrameworkKeys() as keys:
        world = await start(bc, database_url, tmp_path, MICROSOFT_APP_ID=APP_ID,
                            MICROSOFT_APP_PASSWORD="not-a-real-secret", MICROSOFT_OPENID_METADATA_URL=keys.openid_url)
        try:
            url = f"{world.url}/api/messages"
            activity = bot_added_to_team(bc.service_url, added_by=ANN)  # stored on arrival, nothing sent back
            good = {"audience": APP_ID, "service_url": activity["serviceUrl"]}
            # Each differs from a good token in one thing.
            refused = {
                "no token": None,
                "not a JWT": "not.a.jwt",
                "another bot's audience": keys.token(**{**good, "audience": OTHER_APP_ID}),
                "another issuer": keys.token(**good, issuer="https://api.botframework.example"),
                "expired 10 minutes ago (past the 5 minutes' clock skew)": keys.token(**good, expires_in=-600),
                "signed by a key nobody published": keys.token(**good, kid="unpublished", signing_key=new_key()),
                "a published key's id on another key's signature": keys.token(**good, signing_key=new_key()),
                "a key endorsed for another channel only": keys.token(**good, kid=OTHER_CHANNEL_KID),
                "issued for another serviceUrl": keys.token(**{**good, "service_url": "https://smba.example/amer/"}),
            }
            for case, token in refused.items():
                status, body = await post_activity(url, activity, token)
                assert status == 401, (case, status, body, world.log())
            assert await _stored(world) == {"workspaces": 0, "members": 0, "teams_conversations": 0}

            status, body = await post_activity(url, activity, keys.token(**good))
            assert status in (200, 201), (status, body, world.log())
            async with world.db.transaction() as conn:
                kinds = set((await conn.execute(sa.select(teams_conversations.c.kind).where(
                    teams_conversations.c.external_id == TEAM_ID))).scalars())
            assert kinds == {"team", "channel", "install"}
            assert bc.requests == []
        finally:
            await stop(world)


async def test_while_the_signing_keys_are_fetched_the_server_keeps_answering(database_url, tmp_path):
    """botbuilder fetches the keys with a blocking call and no timeout; a slow key server must hold up only
    the Teams requests waiting for the keys, not the rest of `unmeet serve` (Slack, health, other requests).
    A fetch on the event loop would hold a health check for at least one answer's 1.5 s; the bound of 1 s
    leaves room for a loaded CI machine (three test workers on two cores) without hiding that."""
    async with FakeBotConnector() as bc, FakeBotFrameworkKeys(delay=1.5) as keys:  # two answers: 3 s
        world = await start(bc, database_url, tmp_path, MICROSOFT_APP_ID=APP_ID,
                            MICROSOFT_APP_PASSWORD="not-a-real-secret", MICROSOFT_OPENID_METADATA_URL=keys.openid_url)
        try:
            url = f"{world.url}/api/messages"
            activity = bot_added_to_team(bc.service_url, added_by=ANN)
            good = {"audience": APP_ID, "service_url": activity["serviceUrl"]}
            loop = asyncio.get_running_loop()
            began = loop.time()
            accepted = asyncio.create_task(post_activity(url, activity, keys.token(**good)))
            refused = asyncio.create_task(post_activity(url, activity, keys.token(**good, signing_key=new_key())))
            waits = []
            async with aiohttp.ClientSession() as session:
                while not (accepted.done() and refused.done()):
                    asked = loop.time()
                    async with session.get(f"{world.url}/healthz") as response:
                        assert response.status == 200
                    waits.append(loop.time() - asked)
                    await asyncio.sleep(0.05)
            assert loop.time() - began >= 3  # the Teams requests did wait for the slow keys
            assert len(waits) >= 10 and max(waits) < 1, waits
            assert (await accepted)[0] in (200, 201), (accepted.result(), world.log())
            assert (await refused)[0] == 401, refused.result()
        finally:
            await stop(world)


async def test_when_the_signing_keys_take_too_long_the_channel_is_asked_to_retry(database_url, tmp_path):
    """The channel gives a bot 15 s to answer; past the check's time limit the answer is a 503, and the
    fetch that carries on in the background has the keys ready for the channel's next try."""
    async with FakeBotConnector() as bc, FakeBotFrameworkKeys(delay=3.5) as keys:  # two answers: 7 s
        world = await start(bc, database_url, tmp_path, MICROSOFT_APP_ID=APP_ID,
                            MICROSOFT_APP_PASSWORD="not-a-real-secret", MICROSOFT_OPENID_METADATA_URL=keys.openid_url)
        try:
            url = f"{world.url}/api/messages"
            activity = bot_added_to_team(bc.service_url, added_by=ANN)
            token = keys.token(audience=APP_ID, service_url=activity["serviceUrl"])
            loop = asyncio.get_running_loop()
            began = loop.time()
            status, _ = await post_activity(url, activity, token)
            assert status == 503 and 5 <= loop.time() - began < 6.5, (status, loop.time() - began)
            assert await _stored(world) == {"workspaces": 0, "members": 0, "teams_conversations": 0}
            while keys.fetches == 0:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # botbuilder stores them
            began = loop.time()
            status, body = await post_activity(url, activity, token)
            assert status in (200, 201) and loop.time() - began < 1, (status, body, world.log())
            assert keys.fetches == 1
        finally:
            await stop(world)


async def test_a_key_server_down_at_start_gets_503s_until_it_is_back(database_url, tmp_path):
    """A 401 would drop the activity; a 5xx makes the channel send it again, and once the keys can be
    fetched that try goes through. The server starts without them."""
    port = free_port()
    keys = FakeBotFrameworkKeys(port=port)  # started later
    async with FakeBotConnector() as bc:
        world = await start(bc, database_url, tmp_path, MICROSOFT_APP_ID=APP_ID,
                            MICROSOFT_APP_PASSWORD="not-a-real-secret",
                            MICROSOFT_OPENID_METADATA_URL=f"http://127.0.0.1:{port}/v1/.well-known/openidconfiguration")
        try:
            activity = bot_added_to_team(bc.service_url, added_by=ANN)
            token = keys.token(audience=APP_ID, service_url=activity["serviceUrl"])
            status, _ = await post_activity(f"{world.url}/api/messages", activity, token)
            assert status == 503
            assert "could not fetch the Teams token signing keys" in world.log()
            assert await _stored(world) == {"workspaces": 0, "members": 0, "teams_conversations": 0}

            await keys.start()
            status, body = await post_activity(f"{world.url}/api/messages", activity, token)
            assert status in (200, 201), (status, body, world.log())
            assert (await _stored(world))["teams_conversations"] == 3
        finally:
            await keys.stop()
            await stop(world)


async def test_while_the_bots_own_token_is_fetched_the_server_keeps_answering(database_url, tmp_path):
    """botbuilder gets the bot's token for its sends from Microsoft Entra with MSAL, a blocking call, where
    each request is signed; a slow token endpoint must hold up only the sends waiting for the token, not the
    rest of `unmeet serve`. The round's post, roster read and DMs run in its worker (proactive sends) and
    all wait for the one token, fetched once. The bound of 1 s as above."""
    async with (FakeBotConnector(speedup=20) as bc, FakeBotFrameworkKeys() as keys,
                FakeEntraTokens(client_id=APP_ID, client_secret="not-a-real-secret", delay=1.5) as entra):
        bc.add_team(TEAM_ID, members=[p.member() for p in (ANN, BOB, CEM)])
        await share_round_here(database_url, bc)  # the round's jobs wait for `unmeet serve`'s worker
        bc.requests.clear()
        loop = asyncio.get_running_loop()
        began = loop.time()
        world = await start(bc, database_url, tmp_path, MICROSOFT_APP_ID=APP_ID,
                            MICROSOFT_APP_PASSWORD="not-a-real-secret", MICROSOFT_OPENID_METADATA_URL=keys.openid_url,
                            MICROSOFT_LOGIN_URL=entra.login_url, REQUESTS_CA_BUNDLE=entra.ca_file)
        try:
            def delivered():
                return all(bc.activities(personal_conversation_id(p)) for p in (BOB, CEM))

            waits = []
            async with aiohttp.ClientSession() as session:
                while not delivered():
                    assert loop.time() - began < 30, (bc.requests, world.log())
                    asked = loop.time()
                    async with session.get(f"{world.url}/healthz") as response:
                        assert response.status == 200
                    waits.append(loop.time() - asked)
                    await asyncio.sleep(0.05)
            assert loop.time() - began >= 1.5  # the sends did wait for the slow token
            assert len(waits) >= 10 and max(waits) < 1, waits
            [token] = entra.issued  # one fetch for every send (the post, the roster, each chat and DM)
            assert len(bc.requests) >= 5 and {r.authorization for r in bc.requests} == {f"Bearer {token}"}
        finally:
            await stop(world)
