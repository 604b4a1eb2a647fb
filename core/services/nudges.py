"""When a nudge may reach a person: the one gate every feature's reminders and prompts pass.

Schedulers put a nudge (a reminder, a morning prompt, a "were you stuck today?") inside the person's
working hours when they queue it (`core.domain.rounds.next_working_moment`). Right before it is sent,
its job handler calls `hold_nudge`: while the person is in focus time the job is deferred to the end
of the session (the worker runs it again then, or at once when the session is stopped early), so
nothing is dropped and nothing is sent twice. Rules that hold nudges back belong here, in one place.

A nudge about a team's work names the team's channel: then the team's agreed working hours (a typed
rule of its published agreement, `core.persistence.agreements.rules_for_channel`) hold it back too,
on top of the person's own hours.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from core.jobs.worker import Defer
from core.persistence.agreements import rules_for_channel
from core.persistence.focus import focus_ends_at
from core.persistence.repository import get_member

# The job kinds that pass this gate, with the person in their payload (`{"member": id}`): when a focus
# session ends early, the ones it held back are due at once.
NUDGE_KINDS = ("round.remind", "onething.check", "stuck.nudge", "seat.morning", "seat.evening", "seat.week",
               "programme.open", "programme.remind", "programme.briefing")


async def nudge_moment(conn: AsyncConnection, *, member_id: int, now: datetime,
                       channel_id: int | None = None) -> datetime:
    """The earliest moment from `now` at which a nudge may reach this person: after any focus
    session that is running, and inside the working hours of the team (`channel_id`) it is about."""
    moment = now
    for _ in range(3):  # a focus session's end may fall in quiet hours, and the other way round
        focus_until = await focus_ends_at(conn, member_id, moment)
        moment = focus_until if focus_until is not None else moment
        if channel_id is not None:
            team = await rules_for_channel(conn, channel_id)
            if team.work_start is not None:
                moment = team.next_quiet_end(moment, (await get_member(conn, member_id)).tz)
        if focus_until is None:
            break
    return moment


async def hold_nudge(conn: AsyncConnection, *, member_id: int, now: datetime, channel_id: int | None = None) -> None:
    """Return when a nudge may go now; else raise `Defer` to the moment it may."""
    moment = await nudge_moment(conn, member_id=member_id, now=now, channel_id=channel_id)
    if moment > now:
        raise Defer(moment)
