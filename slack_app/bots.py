"""The bot that speaks for a workspace: its Web API client, paced under Slack's rate limits.

With SLACK_BOT_TOKEN one bot serves the one workspace through one client, as it always did. With
"Add to Slack" installs (slack_app/installs.py) each workspace has its own bot token, stored encrypted
by core. Jobs run outside any request, so the messenger asks here for the workspace's bot: its token is
read from the database at most once a minute, and each workspace has its own pacer, because Slack
counts its rate limits per workspace and method.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (AsyncConnectionErrorRetryHandler,
                                                         AsyncRateLimitErrorRetryHandler,
                                                         AsyncServerErrorRetryHandler)

from core.domain.refs import WorkspaceRef
from core.jobs.worker import Permanent
from core.services import installations
from core.services.deps import Deps
from slack_app.pacing import PacedWebClient, CallCounter, SlackPacer

CACHE_SECONDS = 60.0  # how long a workspace's bot token is used before it is read again


class NotInstalled(Permanent):
    """The app is not installed in the workspace (never, or not any more): nothing can be sent there."""


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

    def _client(self, token: str | None, pacer: SlackPacer) -> PacedWebClient:
        # Calls are paced under Slack's rate tiers; slack_sdk retries the 429s that still happen (after
        # Retry-After), and 5xx / dropped connections, before a job sees them.
        return PacedWebClient(token=token, base_url=self.deps.settings.slack_api_url, pacer=pacer,
                              session=self._http,
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

    async def bot(self, workspace: WorkspaceRef) -> BotClient:
        """The workspace's bot; NotInstalled when the app has no installation there."""
        if not self.installs:
            return self._single
        now = self.clock()
        cached = self._cache.get(workspace.id)
        if cached is not None and cached[0] > now:
            return cached[1]
        installation = await installations.find_installation(self.deps, workspace)
        if installation is None:
            self._cache.pop(workspace.id, None)
            raise NotInstalled(f"the app is not installed in Slack workspace {workspace.id}")
        bot = BotClient(self._client(installation.bot_token, self._pacer(workspace.id)), installation.bot_user_id)
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
