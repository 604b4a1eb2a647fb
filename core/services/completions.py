"""The one way a feature says "this person did it": `announce(conn, …)` inside the feature's own
transaction, at the moment the feature's event happens (a One Thing saved, a Driver's Seat week
finished, focus time planned, a round shared, an agreement published).

Programmes read completions (core.services.programmes); they never ask a feature. A template can
name any kind below, and a new feature joins by announcing its own kind: no change in programme code.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.jobs import queue
from core.persistence import programmes as store
from core.services import rounds  # a module import: rounds announces a round shared

ONE_THING = "one_thing"
DRIVERS_SEAT = "drivers_seat"
FOCUS_PLAN = "focus_plan"
ROUND = "round"
AGREEMENT = "agreement"


async def announce(conn: AsyncConnection, *, workspace_id: int, member_id: int, kind: str, at: datetime,
                   ref: str | int = "") -> None:
    """Record that the person did `kind` (`ref`: which thing, so announcing the same one again is a no-op).
    Their programmes' coaches' Homes are published again (for those who opened one); the person's own Home
    is the feature's to refresh."""
    await store.add_completion(conn, workspace_id=workspace_id, member_id=member_id, kind=kind, ref=str(ref), at=at)
    for viewer in await store.coach_homes(conn, member_id):
        await queue.enqueue(conn, rounds.HOME_REFRESH, f"home:done:{viewer}", {"member": viewer}, due_at=at, now=at,
                            workspace_id=workspace_id, rearm=True)
