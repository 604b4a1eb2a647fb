"""The bot's own token for calling the Bot Connector, fetched off the event loop.

botbuilder's credentials (`MicrosoftAppCredentials` and kin) get the token from Microsoft Entra with MSAL,
synchronously, where msrest signs each request (`signed_session` -> `get_access_token`): on the event loop,
blocking HTTPS requests whenever MSAL's cache has no token fresh enough. And its factory makes new
credentials (so a new MSAL app, with an empty cache and its discovery of the authority) for each connector
client, i.e. each turn and each proactive send. A slow token endpoint would stall the whole process:
Slack, health checks, every other job.

`OffLoopCredentialFactory` wraps the configured factory. botbuilder asks it for credentials (a coroutine)
before each connector client it builds, for every turn and every proactive send; that is where the token
is fetched, in a thread of a small pool of its own, within TOKEN_SECONDS, and cached until REFRESH_MARGIN
before it expires. The credentials handed out only read that token, so signing a request never blocks.
One fetch at a time per app and audience: sends that need a token together wait for the same fetch, and a
fetch that outlives the time limit carries on and serves the next try (as the inbound key check does,
teams_app/__init__.py). botbuilder's own credentials object (and so MSAL's app and cache) is kept per app
and audience instead of being built anew for each connector client.

A fetch that fails or takes too long fails only the requests that need the token: botbuilder builds a
connector client for every inbound turn, also for the many that send nothing (a conversation update),
so the credentials come back anyway, and signing a request without a valid token raises PermissionError
(an OSError: the messenger retries it, then hands the job back as RetryLater). A token past its refresh
time but not expired is still used while a new one can't be had.

`login_url` (MICROSOFT_LOGIN_URL) replaces the public cloud's `https://login.microsoftonline.com/` in the
authority; the tests point it at a loopback token server. MSAL would check an authority it doesn't know
with Microsoft (instance discovery), so for that authority it is told not to.
"""

from __future__ import annotations

import asyncio
import logging
import math
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
    """botbuilder's credentials, signing with the token fetched off the loop: reading it, nothing more."""

    def __init__(self, entry: "_Entry"):
        inner = entry.credentials
        super().__init__(app_id=inner.microsoft_app_id, channel_auth_tenant=inner.tenant,
                         oauth_scope=inner.oauth_scope)
        self.oauth_endpoint = inner.oauth_endpoint
        self._entry = entry

    def get_access_token(self, force_refresh: bool = False) -> str:
        entry = self._entry
        if entry.token is None or time.time() >= entry.expires_at:
            raise PermissionError(f"no token to call Teams with: {entry.error or 'not fetched yet'}")
        return entry.token


@dataclass
class _Entry:
    credentials: AppCredentials  # botbuilder's, which call MSAL (blocking)
    token: str | None = None
    refresh_at: float = 0.0  # time.monotonic(): fetch again from then on
    expires_at: float = math.inf  # time.time(): the token's `exp`, if it says
    fetch: asyncio.Future | None = None  # the fetch running now, if any
    error: str = ""  # why the last fetch failed


class OffLoopCredentialFactory(ServiceClientCredentialsFactory):
    TOKEN_SECONDS = 5.0  # a turn or send waits this long for a token (the channel gives a turn 15 s in all)
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
        return _Signed(entry)

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
            entry.error = f"no answer from the token endpoint within {self.TOKEN_SECONDS} s"
            log.warning("could not get the bot's Teams token: %s", entry.error)
        except Exception as error:  # noqa: BLE001 - MSAL's and requests' errors; the sends that need it fail
            log.warning("could not get the bot's Teams token: %s", entry.error or error)

    @staticmethod
    def _fetched(entry: _Entry, done: asyncio.Future) -> None:
        """Runs before anyone waiting for the fetch resumes (registered first)."""
        entry.fetch = None
        if done.cancelled():
            return
        if done.exception() is not None:
            entry.error = f"{type(done.exception()).__name__}: {done.exception()}"
            return
        entry.token, entry.refresh_at, entry.expires_at = done.result()
        entry.error = ""

    def _fetch(self, credentials: AppCredentials) -> tuple[str, float, float]:
        """In a pool thread: MSAL's blocking calls, and when the token must be fetched again."""
        if (self._login_url and isinstance(credentials, MicrosoftAppCredentials) and credentials.app is None
                and credentials.oauth_endpoint.startswith(self._login_url)):
            credentials.app = msal.ConfidentialClientApplication(
                credentials.microsoft_app_id, client_credential=credentials.microsoft_app_password,
                authority=credentials.oauth_endpoint, instance_discovery=False)
        token = credentials.get_access_token()
        return (token, *self._times(token))

    def _times(self, token: str) -> tuple[float, float]:
        """(monotonic refresh time, wall-clock expiry): REFRESH_MARGIN before the token's `exp`; without
        one, fetch again every time (MSAL's cache decides) and never call it expired."""
        now = time.monotonic()
        try:
            expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            return now, math.inf
        return now + max(0.0, expires - time.time() - self.REFRESH_MARGIN), expires
