"""Requests first: how many platform requests this process is answering right now, so that work which
can wait (the job worker) lets them go first.

Slack wants its acknowledgement within 3 seconds, and everything in a process shares one event loop:
at 50 requests at once, the worker's claims and jobs and the writes after each acknowledgement ran
between the acknowledgements and made their tail long. Work that can wait calls `quiet()` first: it
returns once no request has been in flight for `CALM` seconds, and after `at_most` seconds in any case,
so under a steady load the background is late, never stopped. The calm matters at the start of a
burst: the first request can be answered before the next one arrives, and work let go in that gap
(the first answer's job) then ran in the middle of the burst.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

WAIT_AT_MOST = 0.5  # seconds background work lets requests go first
CALM = 0.05  # seconds without a request in flight that count as quiet


class Foreground:
    def __init__(self) -> None:
        self.in_flight = 0
        self._quiet: asyncio.Future | None = None  # done when in_flight drops to 0
        self._idle_since = 0.0  # time.monotonic() when in_flight last dropped to 0

    @contextmanager
    def request(self) -> Iterator[None]:
        """Around answering one request (until its response is ready)."""
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle_since = time.monotonic()
                if self._quiet is not None and not self._quiet.done():
                    self._quiet.set_result(None)

    async def quiet(self, at_most: float = WAIT_AT_MOST) -> None:
        """Wait until no request has been in flight for `CALM` seconds, or `at_most` seconds."""
        deadline = time.monotonic() + at_most
        while (left := deadline - time.monotonic()) > 0:
            if self.in_flight:
                await self._idle(left)
                continue
            calm = CALM - (time.monotonic() - self._idle_since)
            if calm <= 0:
                return
            await asyncio.sleep(min(calm, left))

    async def _idle(self, at_most: float) -> None:
        """Until no request is in flight, or `at_most` seconds."""
        if self._quiet is None or self._quiet.done() or self._quiet.get_loop() is not asyncio.get_running_loop():
            self._quiet = asyncio.get_running_loop().create_future()
        with suppress(TimeoutError):  # shielded: one waiter's timeout must not end the others' wait
            await asyncio.wait_for(asyncio.shield(self._quiet), at_most)
