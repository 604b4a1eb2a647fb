"""The bot's own token (teams_app/credentials.py) against the loopback token endpoint, in this process:
fetched off the event loop, once for sends that need it together, again only near its expiry, and a
fetch past the time limit still serves the next try. `unmeet serve` with it: test_tokens.py."""

from __future__ import annotations

import asyncio

import pytest
from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory

from teams_app.credentials import OffLoopCredentialFactory
from tests.fakes.entra_tokens import FakeEntraTokens

APP_ID, SECRET = "1b4f6c2e-8d3a-4f5b-9c7e-2a1d0e3f4b5c", "not-a-real-secret"
ARGS = (APP_ID, "https://api.botframework.com", "https://login.microsoftonline.com/botframework.com", True)


class _Config:
    def __init__(self, app_id: str = APP_ID):
        self.APP_ID, self.APP_PASSWORD, self.APP_TYPE, self.APP_TENANTID = app_id, SECRET, "MultiTenant", ""


def factory(entra: FakeEntraTokens, app_id: str = APP_ID) -> OffLoopCredentialFactory:
    return OffLoopCredentialFactory(ConfigurationServiceClientCredentialFactory(_Config(app_id)),
                                    login_url=entra.login_url)


@pytest.fixture
async def entra(monkeypatch):
    async with FakeEntraTokens(client_id=APP_ID, client_secret=SECRET) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)  # MSAL (requests) trusts the fake's certificate
        yield fake


def bearer(credentials) -> str:
    return credentials.signed_session().headers["Authorization"]


async def test_sends_that_need_a_token_together_wait_for_one_fetch_and_the_loop_runs_on(entra):
    entra.delay = 0.5
    credentials = factory(entra)
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    ticker = asyncio.create_task(tick())
    try:
        signed = await asyncio.gather(*(credentials.create_credentials(*ARGS) for _ in range(5)))
    finally:
        ticker.cancel()
    assert ticks >= 15  # 0.5 s of fetching, and the loop kept running
    [token] = entra.issued
    assert {bearer(c) for c in signed} == {f"Bearer {token}"}
    assert entra.requests[0]["scope"] == "https://api.botframework.com/.default"
    assert bearer(await credentials.create_credentials(*ARGS)) == f"Bearer {token}"  # cached
    assert len(entra.requests) == 1


async def test_a_token_near_its_expiry_is_fetched_again(entra):
    entra.lifetime = 301  # one second past the five minutes' margin
    credentials = factory(entra)
    first = bearer(await credentials.create_credentials(*ARGS))
    assert bearer(await credentials.create_credentials(*ARGS)) == first
    await asyncio.sleep(1.1)
    second = bearer(await credentials.create_credentials(*ARGS))
    assert second != first and len(entra.issued) == 2 and second == f"Bearer {entra.issued[1]}"


async def test_a_fetch_past_the_time_limit_fails_only_signing_and_serves_the_next_try(entra, monkeypatch):
    """A turn that sends nothing needs no token: the credentials come back, and only a request signed
    with them fails (PermissionError, an OSError, which the messenger retries)."""
    monkeypatch.setattr(OffLoopCredentialFactory, "TOKEN_SECONDS", 0.3)
    entra.delay = 0.8
    credentials = factory(entra)
    early = await credentials.create_credentials(*ARGS)
    with pytest.raises(PermissionError, match="within 0.3 s"):
        bearer(early)
    await asyncio.sleep(0.7)
    assert bearer(early) == f"Bearer {entra.issued[0]}"  # the fetch carried on
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert bearer(await credentials.create_credentials(*ARGS)) == f"Bearer {entra.issued[0]}"
    assert loop.time() - began < 0.2 and len(entra.requests) == 1


async def test_a_refused_secret_fails_signing_and_the_next_send_asks_again(entra):
    entra.client_secret = "another secret"
    credentials = factory(entra)
    for _ in range(2):
        with pytest.raises(PermissionError, match="invalid_client"):
            bearer(await credentials.create_credentials(*ARGS))
    assert len(entra.requests) == 2 and entra.issued == []


async def test_a_stale_token_is_used_while_no_new_one_can_be_had(entra):
    entra.lifetime = 301
    credentials = factory(entra)
    first = bearer(await credentials.create_credentials(*ARGS))
    await asyncio.sleep(1.1)
    entra.client_secret = "rotated"
    assert bearer(await credentials.create_credentials(*ARGS)) == first  # refresh failed, still valid
    assert len(entra.requests) == 2


async def test_without_an_app_id_nothing_is_fetched(entra):
    credentials = await factory(entra, app_id="").create_credentials("", *ARGS[1:])
    assert "Authorization" not in credentials.signed_session().headers
    assert entra.requests == []
