"""The bot's own token for calling the Bot Connector, fetched off the event loop.

botbuilder's credentials (`MicrosoftAppCredentials` and kin) get the token from Microsoft Entra with MSAL,
synchronously, where msrest signs each request (`signed_session` -> `get_access_token`): on the event loop,
a blocking HTTPS request (the first time also MSAL's discovery of the authority) whenever MSAL's cache has
no token fresh enough, i.e. the first send and then about hourly. A slow token endpoint would stall the
whole process: Slack, health checks, every other job.

`OffLoopCredentialFactory` wraps the configured factory. botbuilder asks it for credentials (a coroutine)
before each connector client it builds, for every turn and every proactive send; that is where the token
is fetched, in a thread of a small pool of its own, within TOKEN_SECONDS, and cached until REFRESH_MARGIN
before it expires. The credentials handed out only carry that token, so signing a request never blocks.
One fetch at a time per app and audience: sends that need a token together wait for the same fetch, and a
fetch that outlives the time limit carries on and serves the next try (as the inbound key check does,
teams_app/__init__.py). botbuilder's own credentials object (and so MSAL's app and cache) is kept per app
and audience instead of being built anew for each connector client.

`login_url` (MICROSOFT_LOGIN_URL) replaces the public cloud's `https://login.microsoftonline.com/` in the
authority; the tests point it at a loopback token server. MSAL would check an authority it doesn't know
with Microsoft (instance discovery), so for that authority it is told not to.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jwt
import msal
from botframework.connector.auth import AppCredentials, AuthenticationConstants, MicrosoftAppCredentials
from botframework.connector.auth import ServiceClientCredentialsFactory

log = logging.getLogger("unmeet.teams")

PUBLIC_LOGIN = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX  # https://login.microsoftonline.com/


class _Signed(AppCredentials):
    """botbuilder's credentials with the token already fetched: signing a request reads it, nothing more."""

    def __init__(self, inner: AppCredentials, token: str):
        super().__init__(app_id=inner.microsoft_app_id, channel_auth_tenant=inner.tenant,
                         oauth_scope=inner.oauth_scope)
        self.oauth_endpoint = inner.oauth_endpoint
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token


@dataclass
class _Entry:
    credentials: AppCredentials  # botbuilder's, which call MSAL (blocking)
    token: str | None = None
    refresh_at: float = 0.0  # time.monotonic()
    fetch: asyncio.Future | None = None  # the fetch running now, if any


class OffLoopCredentialFactory(ServiceClientCredentialsFactory):
    TOKEN_SECONDS = 10.0  # a send waits this long for a token, then fails (and is retried)
    REFRESH_MARGIN = 300.0  # seconds before expiry; MSAL too treats a token that close to it as expired
    TOKEN_THREADS = 2

    def __init__(self, inner: ServiceClientCredentialsFactory, *, login_url: str = "") -> None:
        self._inner = inner
        self._login_url = login_url.rstrip("/") + "/" if login_url else ""
        self._entries: dict[tuple, _Entry] = {}
        self._pool = ThreadPoolExecutor(self.TOKEN_THREADS, thread_name_prefix="teams-token")

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> AppCredentials:
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        entry = self._entries.get(key)
        if entry is None:
            credentials = await self._inner.create_credentials(app_id, oauth_scope, login_endpoint,
                                                               validate_authority)
            if credentials.microsoft_app_id in ("", None, AuthenticationConstants.ANONYMOUS_SKILL_APP_ID):
                return credentials  # anonymous (local mode): no token to fetch
            self._point(credentials)
            entry = self._entries.setdefault(key, _Entry(credentials))
        if entry.token is None or time.monotonic() >= entry.refresh_at:
            await self._refresh(entry)
        return _Signed(entry.credentials, entry.token)

    def _point(self, credentials: AppCredentials) -> None:
        endpoint = credentials.oauth_endpoint or ""
        if self._login_url and endpoint.lower().startswith(PUBLIC_LOGIN):
            credentials.oauth_endpoint = self._login_url + endpoint[len(PUBLIC_LOGIN):]

    async def _refresh(self, entry: _Entry) -> None:
        if entry.fetch is None:
            entry.fetch = asyncio.get_running_loop().run_in_executor(self._pool, self._fetch, entry.credentials)
            entry.fetch.add_done_callback(lambda done: self._fetched(entry, done))
        try:
            await asyncio.wait_for(asyncio.shield(entry.fetch), self.TOKEN_SECONDS)
        except TimeoutError:
            log.warning("could not get the bot's Teams token within %s s", self.TOKEN_SECONDS)
            raise TimeoutError(f"no Teams token within {self.TOKEN_SECONDS} s") from None

    @staticmethod
    def _fetched(entry: _Entry, done: asyncio.Future) -> None:
        """Runs before anyone waiting for the fetch resumes (registered first)."""
        entry.fetch = None
        if done.cancelled() or done.exception() is not None:
            return  # the waiters see the error; the next send tries again
        entry.token, entry.refresh_at = done.result()

    def _fetch(self, credentials: AppCredentials) -> tuple[str, float]:
        """In a pool thread: MSAL's blocking calls, and when the token must be fetched again."""
        if (self._login_url and isinstance(credentials, MicrosoftAppCredentials) and credentials.app is None
                and credentials.oauth_endpoint.startswith(self._login_url)):
            credentials.app = msal.ConfidentialClientApplication(
                credentials.microsoft_app_id, client_credential=credentials.microsoft_app_password,
                authority=credentials.oauth_endpoint, instance_discovery=False)
        token = credentials.get_access_token()
        return token, self._refresh_at(token)

    def _refresh_at(self, token: str) -> float:
        """REFRESH_MARGIN before the token's `exp`; now (MSAL's cache decides) if it has none."""
        now = time.monotonic()
        try:
            expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            return now
        return now + max(0.0, expires - time.time() - self.REFRESH_MARGIN)
