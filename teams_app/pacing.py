"""Pace sends to the Bot Connector under Teams' limits, so a fan-out to 1,000 people flows instead of
bouncing off 429s.

Teams limits each bot per conversation (thread) to 7 sends per second, 8 per 2 s, 60 per 30 s and
1,800 per hour, and each app to about 50 requests per second per tenant. `Pacer.wait` sleeps until
one more request fits every window of both. The pace is kept per process: several worker
processes share the tenant limit, so the remaining 429s are retried (see messenger.py).
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable

CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
TENANT_LIMITS = ((45, 1.0),)  # 50/s documented (30 in some versions); a margin for clock skew


class Pacer:
    def __init__(self, *, conversation_limits=CONVERSATION_LIMITS, tenant_limits=TENANT_LIMITS,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.limits = {"conversation": conversation_limits, "tenant": tenant_limits}
        self.clock = clock
        self.sleep = sleep
        self._hits: dict[tuple[str, str], collections.deque[float]] = {}
        self._lock = asyncio.Lock()

    def _wait_needed(self, key: tuple[str, str], now: float) -> float:
        limits = self.limits[key[0]]
        hits = self._hits.get(key)
        if not hits:
            return 0.0
        longest = max(window for _, window in limits)
        while hits and hits[0] <= now - longest:
            hits.popleft()
        wait = 0.0
        for limit, window in limits:
            recent = [t for t in hits if t > now - window] if len(hits) >= limit else ()
            if len(recent) >= limit:
                wait = max(wait, recent[-limit] + window - now)
        return wait

    async def wait(self, conversation: str | None, tenant: str) -> None:
        """Return when one more request to `conversation` (None: a read, paced per tenant only) fits."""
        keys = [("tenant", tenant)] + ([("conversation", conversation)] if conversation else [])
        while True:
            async with self._lock:
                now = self.clock()
                wait = max(self._wait_needed(key, now) for key in keys)
                if wait <= 0:
                    for key in keys:
                        self._hits.setdefault(key, collections.deque()).append(now)
                    self._forget_idle(now)
                    return
            await self.sleep(wait)

    def _forget_idle(self, now: float) -> None:
        """Drop conversations with no request in their longest window (a fan-out touches thousands)."""
        if len(self._hits) < 4096:
            return
        for key in [k for k, hits in self._hits.items()
                    if not hits or hits[-1] <= now - max(w for _, w in self.limits[k[0]])]:
            del self._hits[key]
