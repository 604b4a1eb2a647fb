"""Pace Web API calls under Slack's rate limits, so a fan-out to 1,000 people flows at the rate Slack
allows instead of bouncing off 429s (each of which costs a whole `Retry-After` second).

Slack's documented tiers: Tier 1 ≈ 1/min, 2 ≈ 20/min, 3 ≈ 50/min, 4 ≈ 100/min, per method, workspace
and app; chat.postMessage ≈ 1/s per channel with short bursts, under a workspace-wide ceiling (not
published: "several hundred a minute" — 300/min here). Each limit is a token bucket whose burst is a
minute's worth of calls. The pace is per process; several workers share Slack's limits, so the 429s
that remain are retried by slack_sdk after `Retry-After`. `scale` multiplies every rate (Enterprise
plans with higher limits, or a test double that runs faster than Slack).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from core import metrics

PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "users.info": 4, "users.list": 2, "conversations.members": 4, "conversations.info": 3,
    "conversations.open": 3, "conversations.history": 3, "conversations.replies": 3, "chat.update": 3,
    "chat.postEphemeral": 4, "chat.getPermalink": 4, "views.open": 4, "views.push": 4, "views.update": 4,
    "views.publish": 4, "users.profile.set": 3, "dnd.setSnooze": 2, "dnd.endSnooze": 2,
    "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
}
POST_PER_CHANNEL = (1.0, 3)  # per second, burst
POST_PER_WORKSPACE = (5.0, 20)
# The part of each burst the pacer leaves unused. A call reaches Slack a moment after the pacer lets it
# go, the first calls of a fan-out later than the rest (new connections, a busy start), so Slack sees
# calls closer together than the pacer did; at full pace each call's worth of that lag was a 429 and a
# Retry-After second. A tenth of a tier's burst (a minute of calls) absorbs 6 s of lag at SLACK_RATE_SCALE 1.
BURST_MARGIN = 0.1
# Answers to a person's click must not queue behind a fan-out: these are never held back here.
INTERACTIVE = {"views.open", "views.push", "views.update", "chat.postEphemeral", "auth.test"}


@dataclass
class Bucket:
    per_second: float
    burst: float
    tokens: float
    updated: float

    def reserve(self, now: float) -> float:
        """Take one call's token; return how long the caller must wait for it."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.per_second


class SlackPacer:
    def __init__(self, scale: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.scale = scale
        self.clock = clock
        self.sleep = sleep
        self._buckets: dict[str, Bucket] = {}

    def _bucket(self, key: str, per_second: float, burst: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            burst *= 1 - BURST_MARGIN
            bucket = self._buckets[key] = Bucket(per_second * self.scale, burst, burst, self.clock())
        return bucket

    async def wait(self, method: str, channel: str | None = None) -> None:
        if method in INTERACTIVE:
            return
        now = self.clock()
        if method == "chat.postMessage":
            waits = [self._bucket("post", *POST_PER_WORKSPACE).reserve(now)]
            if channel:
                waits.append(self._bucket(f"post:{channel}", *POST_PER_CHANNEL).reserve(now))
        elif method in METHOD_TIERS:
            per_minute = PER_MINUTE[METHOD_TIERS[method]]
            waits = [self._bucket(method, per_minute / 60, per_minute).reserve(now)]
        else:
            return
        if len(self._buckets) > 10_000:  # a fan-out touches thousands of DM channels: forget idle ones
            self._buckets = {k: b for k, b in self._buckets.items() if not k.startswith("post:") or b.tokens < b.burst}
        delay = max(waits)
        if delay > 0:
            await self.sleep(delay)


class PacedWebClient(AsyncWebClient):
    """slack_sdk's client, waiting for the pacer before each call. `session` gives the HTTP session to
    send through (slack_app/bots.py shares one per process): without one slack_sdk opens a new session, so
    a new connection (and TLS handshake), for every call."""

    def __init__(self, *args, pacer: SlackPacer, session: Callable[[], aiohttp.ClientSession] | None = None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.pacer = pacer
        self._shared_session = session

    async def api_call(self, api_method: str, **kwargs):
        body = kwargs.get("json") or kwargs.get("data") or kwargs.get("params") or {}
        channel = body.get("channel") if isinstance(body, dict) else None
        await self.pacer.wait(api_method, channel)
        if self._shared_session is not None and (self.session is None or self.session.closed):
            self.session = self._shared_session()
        return await super().api_call(api_method, **kwargs)


class CallCounter(AsyncRetryHandler):
    """Counts every request sent to Slack (also those slack_sdk retries by itself) and every 429; retries
    nothing. First in a client's retry handlers: slack_sdk shows each answer (or failure) to them in order
    until one retries, and Bolt copies them into the client it makes for each request."""

    async def can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        method = request.url.rsplit("/", 1)[-1].split("?", 1)[0]
        metrics.platform_call("slack", method)
        if response is not None and response.status_code == 429:
            metrics.rate_limited("slack", method)
        return False
