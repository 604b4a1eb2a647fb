"""When a nudge may reach a person: the one gate every feature's reminders and prompts pass.

Schedulers put a nudge (a reminder, a morning prompt, a "were you stuck today?") inside the person's
working hours when they queue it (`core.domain.rounds.next_working_moment`). Right before it is sent,
its job handler calls `hold_nudge`: while the person is in focus time the job is deferred to the end
of the session (the worker runs it again then, or at once when the session is stopped early), so
nothing is dropped and nothing is sent twice. Rules that hold nudges back belong here, in one place.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.jobs.worker import Defer
from core.persistence.focus import focus_ends_at

# The job kinds that pass this gate, with the person in their payload (`{"member": id}`): when a focus
# session ends early, the ones it held back are due at once.
NUDGE_KINDS = ("round.remind", "onething.check")


async def nudge_moment(conn: AsyncConnection, *, member_id: int, now: datetime) -> datetime:
    """The earliest moment from `now` at which a nudge may reach this person: after any focus
    session that is running."""
    focus_until = await focus_ends_at(conn, member_id, now)
    return focus_until if focus_until is not None else now


async def hold_nudge(conn: AsyncConnection, *, member_id: int, now: datetime) -> None:
    """Return when a nudge may go now; else raise `Defer` to the moment it may."""
    moment = await nudge_moment(conn, member_id=member_id, now=now)
    if moment > now:
        raise Defer(moment)
