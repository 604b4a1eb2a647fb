"""The sender's pace stays inside every Teams window, per conversation and per tenant."""

import asyncio

from teams_app.pacing import CONVERSATION_LIMITS, TENANT_LIMITS, Pacer


class SimulatedTime:
    def __init__(self):
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def worst_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_one_thread_never_exceeds_its_windows():
    time = SimulatedTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    sent = []
    for _ in range(130):
        await pacer.wait("19:thread;messageid=1", "tenant")
        sent.append(time.now)
    for limit, window in CONVERSATION_LIMITS:
        assert worst_window(sent, window) <= limit, (limit, window)
    assert 60 <= sent[-1] <= 70  # 60 per 30 s is the binding limit: 130 sends take a bit over a minute


async def test_a_fan_out_is_held_to_the_tenant_pace_and_not_slower():
    time = SimulatedTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    sent = []

    async def dm(i):
        await pacer.wait(f"a:1:29:{i}", "tenant")
        sent.append(time.now)

    await asyncio.gather(*(dm(i) for i in range(1000)))
    [(limit, window)] = TENANT_LIMITS
    assert worst_window(sorted(sent), window) <= limit
    assert max(sent) < 1000 / limit + 1  # 1,000 people in about 22 s of sending
