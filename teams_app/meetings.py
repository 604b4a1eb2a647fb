"""The meeting check on Teams: `meeting check` gives the form as a card; its submit gives the verdict
card; "Start an async round instead" gives the share form, pre-filled from the agenda (drafted by the
model when the workspace has the LLM on)."""

from __future__ import annotations

from core.domain.meetings import CheckInput
from core.domain.text import N_
from core.messages.meetings import CHECK_FORM, TO_ASYNC_ACTION
from core.messages.model import submitted_text
from core.services import meetings
from teams_app.bot import Dispatch, Turn
from teams_app.focus import show

S_MEETING = N_("Ask “do we need to meet?” before you book a meeting.")


def register(dispatch: Dispatch) -> None:
    dispatch.command(("meeting check", "meetingcheck", "vergadercheck"), S_MEETING, meeting_check)
    dispatch.action(CHECK_FORM, submit_check, once=True)
    dispatch.action(TO_ASYNC_ACTION, to_async)


async def meeting_check(turn: Turn, rest: str) -> None:
    await show(turn, await meetings.check_form(turn.deps, person=turn.person, channel_id=turn.channel_id or ""))


async def submit_check(turn: Turn, data: dict) -> None:
    check = CheckInput(purpose=submitted_text(data, "purpose"), agenda=submitted_text(data, "agenda"), people=submitted_text(data, "people"),
                       minutes=submitted_text(data, "minutes"), frequency=submitted_text(data, "frequency"),
                       decider_known=submitted_text(data, "decider_known"), readable=submitted_text(data, "readable"))
    result = await meetings.run_check(turn.deps, person=turn.person, data=check, channel_id=submitted_text(data, "meta"))
    await show(turn, result.form if isinstance(result, meetings.Invalid) else result.message, replace=True)


async def to_async(turn: Turn, data: dict) -> None:
    value = submitted_text(data, "value")
    result = await meetings.async_round_form(turn.deps, person=turn.person, value=value)
    drafted = await meetings.drafted_round_form(turn.deps, person=turn.person, value=value)
    await show(turn, drafted or result)
