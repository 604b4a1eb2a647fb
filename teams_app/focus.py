"""Focus time on Teams, as bot messages with Adaptive Cards.

- `focus 90 …`, `focus 1h30 writing the plan #reactive`, `focus stop`, `focus`, `focus plan`,
  `focus goal 300`: the same commands as Slack's `/focus`. Teams doesn't let an app set another
  person's presence or status reliably, so the session is recorded, can be announced to a channel
  ("Tell my team"), holds back round reminders, and planned blocks ask at their start.
"""

from __future__ import annotations

import re

from core.domain.focus import PLAN_ROWS, PlanRow
from core.domain.text import N_
from core.messages import focus as views
from core.messages.model import Form, Message, row_id, submitted_text
from core.persistence import teams as store
from core.services import focus
from teams_app.bot import S_STALE_CARD, Dispatch, Turn
from teams_app.render import message_card

S_FOCUS = N_("Protect focus time: “focus 90 writing the plan”, “focus stop”, “focus plan”, or “focus” for your week.")

_MARKUP = re.compile(r"<at\b[^>]*>.*?</at>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_FOCUS_WORD = re.compile(r"^\s*/?focus\b", re.IGNORECASE)


def register(dispatch: Dispatch) -> None:
    dispatch.command(("focus",), S_FOCUS, focus_command)
    dispatch.action(views.STOP_ACTION, stop)
    dispatch.action(views.PLAN_ACTION, plan)
    dispatch.action(views.TELL_ACTION, tell)
    dispatch.action(views.START_BLOCK_ACTION, start_block)
    dispatch.action(views.PLAN_FORM, submit_plan, once=True)
    dispatch.action(views.TELL_FORM, submit_tell, once=True)


async def show(turn: Turn, result: Message | Form, *, replace: bool = False) -> None:
    if isinstance(result, Form):
        card, summary = turn.form(result), result.title
    else:
        card, summary = message_card(result), result.fallback
    await (turn.replace(card, summary) if replace else turn.reply(card, summary))


async def focus_command(turn: Turn, _rest: str) -> None:
    """The arguments as typed (the dispatch's normalised text would turn `-20` into `20`)."""
    raw = _MARKUP.sub(" ", turn.activity.text or "")
    await show(turn, await focus.focus_command(turn.deps, person=turn.person, text=_FOCUS_WORD.sub("", raw, 1)))


async def stop(turn: Turn, _data: dict) -> None:
    await show(turn, await focus.stop_focus(turn.deps, person=turn.person))


async def plan(turn: Turn, _data: dict) -> None:
    await show(turn, await focus.plan_form(turn.deps, person=turn.person))


async def tell(turn: Turn, data: dict) -> None:
    session_id = row_id(data.get("value"))
    if session_id is None:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    await show(turn, await focus.tell_team_form(turn.deps, person=turn.person, session_id=session_id))


async def start_block(turn: Turn, data: dict) -> None:
    block_id = row_id(data.get("value"))
    if block_id is None:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    await show(turn, await focus.start_block(turn.deps, person=turn.person, block_id=block_id))


async def submit_plan(turn: Turn, data: dict) -> None:
    rows = tuple(PlanRow(submitted_text(data, f"day{i}"), submitted_text(data, f"start{i}"), submitted_text(data, f"length{i}"))
                 for i in range(PLAN_ROWS))
    result = await focus.save_plan(turn.deps, person=turn.person, rows=rows)
    await show(turn, result.form if isinstance(result, focus.Invalid) else result.message, replace=True)


async def submit_tell(turn: Turn, data: dict) -> None:
    session_id, channel = row_id(data.get("meta")), submitted_text(data, "channel")
    async with turn.deps.db.transaction() as conn:
        known = channel and (await store.get_reference(conn, turn.workspace, store.CHANNEL, channel)
                             or await store.get_reference(conn, turn.workspace, store.TEAM, channel))
    if session_id is None or not known:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    result = await focus.tell_team(turn.deps, person=turn.person, session_id=session_id, channel_id=channel)
    await show(turn, result, replace=True)
