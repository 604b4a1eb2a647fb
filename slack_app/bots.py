"""The bot that speaks for a workspace: its Web API client, paced under Slack's rate limits.

With SLACK_BOT_TOKEN one bot serves the one workspace through one client, as it always did. With
"Add to Slack" installs (slack_app/installs.py) each workspace has its own bot token, stored encrypted
by core. Jobs run outside any request, so the messenger asks here for the workspace's bot: its token is
read from the database at most once a minute, and each workspace has its own pacer, because Slack
counts its rate limits per workspace and method.

With token rotation on in the Slack app (slack_app/rotation.py), `installation` is the one lookup of a
workspace's bot: it renews the token when it expires within two hours, once across all instances
(core.services.tokens), and Bolt's requests and the jobs both get their token from it. A call Slack
still answers with `token_expired` renews the token and is sent once more (`RotatingWebClient`).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (AsyncConnectionErrorRetryHandler,
                                                         AsyncRateLimitErrorRetryHandler,
                                                         AsyncServerErrorRetryHandler)

from core.domain.refs import WorkspaceRef
from core.jobs.worker import Permanent
from core.services import installations, tokens
from core.services.deps import Deps
from core.services.installations import BotInstallation
from slack_app import rotation
from slack_app.pacing import PacedWebClient, CallCounter, SlackPacer

CACHE_SECONDS = 60.0  # how long a workspace's bot token is used before it is read again


class NotInstalled(Permanent):
    """The app is not installed in the workspace (never, or not any more): nothing can be sent there."""


class RotatingWebClient(PacedWebClient):
    """A bot's client that, when Slack answers a call with `token_expired` (or `invalid_auth` once the
    token's expiry has passed), asks `renew` for the renewed token and sends the same call once more
    with it. The client keeps the new token for its later calls."""

    def __init__(self, *args, renew: Callable[[str, bool], Awaitable[str | None]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.renew = renew

    async def api_call(self, api_method: str, **kwargs):
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            stale = self.token
            if self.renew is None or stale is None or code not in (rotation.EXPIRED, rotation.MAYBE_EXPIRED):
                raise
            renewed = await self.renew(stale, code == rotation.EXPIRED)
            if renewed is None or renewed == stale:
                raise
            self.token = renewed
        return await super().api_call(api_method, **kwargs)


@dataclass(frozen=True)
class BotClient:
    client: PacedWebClient
    user_id: str | None  # the bot's own user; with SLACK_BOT_TOKEN unknown until auth.test says


class SlackBots:
    def __init__(self, deps: Deps, *, clock: Callable[[], float] = time.monotonic):
        self.deps = deps
        self.clock = clock
        self.installs = deps.settings.slack_installs
        self._pacers: dict[str, SlackPacer] = {}
        self._cache: dict[str, tuple[float, BotClient]] = {}
        self._session: aiohttp.ClientSession | None = None
        # The app's own client: SLACK_BOT_TOKEN's bot, or, with installs, the token-less client Bolt's
        # OAuth flow exchanges codes with.
        self.client = self._client(deps.settings.slack_bot_token or None, self._pacer("app"))
        self._single = BotClient(self.client, None)

    def _pacer(self, key: str) -> SlackPacer:
        if key not in self._pacers:
            self._pacers[key] = SlackPacer(self.deps.settings.slack_rate_scale)
        return self._pacers[key]

    def _client(self, token: str | None, pacer: SlackPacer, renew=None) -> RotatingWebClient:
        # Calls are paced under Slack's rate tiers; slack_sdk retries the 429s that still happen (after
        # Retry-After), and 5xx / dropped connections, before a job sees them.
        return RotatingWebClient(token=token, base_url=self.deps.settings.slack_api_url, pacer=pacer,
                                 session=self._http, renew=renew,
                                 retry_handlers=[CallCounter(),
                                                 AsyncConnectionErrorRetryHandler(max_retry_count=2),
                                                 AsyncServerErrorRetryHandler(max_retry_count=2),
                                                 AsyncRateLimitErrorRetryHandler(max_retry_count=3)])

    def _http(self) -> aiohttp.ClientSession:
        """The one HTTP session all bots send through, so calls reuse kept-alive connections to Slack.
        Made at the first call, inside the running event loop; closed by `close`."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client.timeout))
        return self._session

    def open(self) -> None:
        """Give the app's client the shared session (inside the running loop). Bolt makes a client for
        each request by copying the app's client, session included: without this, each of those calls
        opened a session and a connection of its own (a TCP and TLS handshake per call to Slack)."""
        self.client.session = self._http()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def installation(self, workspace: WorkspaceRef, *, refused: str | None = None,
                           expired: bool = True) -> BotInstallation:
        """The workspace's bot with a token that works: a rotating token is renewed first when it expires
        within two hours, or when Slack refused `refused` (`expired`: as expired). NotInstalled when the
        app has no installation there, or its token can't be renewed any more."""
        try:
            found = await installations.find_installation(self.deps, workspace, refresh=self._refresh,
                                                          refused=refused, expired=expired)
        except tokens.RefreshRefused as error:
            self._cache.pop(workspace.id, None)
            raise NotInstalled(f"Slack refused to renew the bot token of {workspace.id} ({error}): "
                               "install the app again") from None
        cached = self._cache.get(workspace.id)
        if found is None or (cached is not None and cached[1].client.token != found.bot_token):
            self._cache.pop(workspace.id, None)  # gone, or renewed (here or by another instance): read again
        if found is None:
            raise NotInstalled(f"the app is not installed in Slack workspace {workspace.id}")
        return found

    async def _refresh(self, refresh_token: str) -> tokens.Grant:
        return await rotation.refresh(self.deps.settings, refresh_token)

    async def _renew(self, workspace: WorkspaceRef, stale: str, expired: bool) -> str | None:
        """Slack refused `stale`: the renewed token (None when there is nothing to renew it with)."""
        try:
            return (await self.installation(workspace, refused=stale, expired=expired)).bot_token
        except NotInstalled:
            return None

    async def bot(self, workspace: WorkspaceRef) -> BotClient:
        """The workspace's bot; NotInstalled when the app has no installation there."""
        if not self.installs:
            return self._single
        now = self.clock()
        cached = self._cache.get(workspace.id)
        if cached is not None and cached[0] > now:
            return cached[1]
        installation = await self.installation(workspace)
        if cached is not None and cached[1].client.token == installation.bot_token:
            bot = cached[1]  # the same token: keep the client (and its renewals) everyone already holds
        else:
            client = self._client(installation.bot_token, self._pacer(workspace.id), partial(self._renew, workspace))
            bot = BotClient(client, installation.bot_user_id)
        self._cache[workspace.id] = (now + CACHE_SECONDS, bot)
        return bot

    def forget(self, workspace: WorkspaceRef) -> None:
        """The workspace's token changed (installed again) or is gone: read it again next time."""
        self._cache.pop(workspace.id, None)

    async def remove(self, workspace: WorkspaceRef) -> None:
        """The workspace removed the app or revoked its bot token: delete the stored token. Another
        process still holding it gets Slack's refusal until its copy expires (CACHE_SECONDS)."""
        self.forget(workspace)
        await installations.remove_installation(self.deps, workspace)
