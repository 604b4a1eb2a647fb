"""The stuck log on Teams: `stuck` / `vast` in a team channel — `stuck start [days]` starts the channel's
log (answered in the thread), `stuck <what I was waiting for>` and `stuck` alone are private, so the
form and the status go to the person's 1:1 chat with the bot. The end-of-day question's buttons, the
form's Save and the report's "Adopt as rules" are card actions."""

from __future__ import annotations

import html
import re

from core.domain import stuck as rules
from core.domain.stuck import EntryInput
from core.domain.text import N_
from core.messages import stuck as views
from core.messages.model import Form, Notice, rich, submitted_text
from core.services import stuck
from teams_app.bot import Dispatch, Turn
from teams_app.focus import show
from teams_app.render import message_card

S_STUCK = N_("The team's stuck log: “stuck start” (10 working days) or “stuck start 5” in the team's channel; "
             "“stuck what I was waiting for” notes a stuck moment; “stuck” shows where the log stands.")
S_STUCK_CHANNEL = N_("The stuck log belongs to a team channel: mention me there and write “stuck” and what you "
                     "were waiting for. Or answer my end-of-day question.")
S_SENT_PRIVATELY = N_("I sent it to our 1:1 chat, so only you see it.")

_MARKUP = re.compile(r"<at\b[^>]*>.*?</at>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_COMMAND_WORDS = re.compile(r"^\s*/?(?:stuck|vast)\b[\s:.,!-]*", re.IGNORECASE)


def register(dispatch: Dispatch) -> None:
    dispatch.command(("stuck", "vast"), S_STUCK, stuck_command)
    dispatch.action(views.RECORD_ACTION, record)
    dispatch.action(views.NOT_STUCK_ACTION, not_stuck)
    dispatch.action(views.ADOPT_ACTION, adopt)
    dispatch.action(views.FORM, submit_form, once=True)


def entry_input(data: dict) -> EntryInput:
    return EntryInput(what=submitted_text(data, "what"), kind=submitted_text(data, "kind") or None, other=submitted_text(data, "other"),
                      knew=submitted_text(data, "knew") or None, waited=submitted_text(data, "waited") or None, note=submitted_text(data, "note"))


async def stuck_command(turn: Turn, _rest: str) -> None:
    """The words as typed (the dispatch's normalised text has lost case and punctuation)."""
    text = _COMMAND_WORDS.sub("", html.unescape(_MARKUP.sub(" ", turn.activity.text or "")), 1)
    if not turn.channel_id:
        await turn.notice(Notice(rich(turn.t.gettext(S_STUCK_CHANNEL))))
        return
    result = await stuck.stuck_command(turn.deps, person=turn.person, channel_id=turn.channel_id, text=text)
    if isinstance(rules.parse_command(text), (rules.Start, rules.BadDays)):
        await show(turn, result)
        return
    if isinstance(result, Form):
        card, summary = turn.form(result), result.title
    else:
        card, summary = message_card(result), result.fallback
    await turn.messenger.send_card(turn.person, card, summary=summary)
    await turn.notice(Notice(rich(turn.t.gettext(S_SENT_PRIVATELY))))


async def record(turn: Turn, data: dict) -> None:
    await show(turn, await stuck.entry_form(turn.deps, person=turn.person, log_value=submitted_text(data, "value")))


async def not_stuck(turn: Turn, _data: dict) -> None:
    await show(turn, await stuck.not_stuck(turn.deps, person=turn.person), replace=True)


async def adopt(turn: Turn, data: dict) -> None:
    await show(turn, await stuck.adopt(turn.deps, person=turn.person, value=submitted_text(data, "value")))


async def submit_form(turn: Turn, data: dict) -> None:
    result = await stuck.submit_entry(turn.deps, person=turn.person, metadata=submitted_text(data, "meta"),
                                      data=entry_input(data))
    await show(turn, result.form if isinstance(result, stuck.Invalid) else result.message, replace=True)
