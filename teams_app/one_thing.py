"""The One Thing on Teams, as bot messages with Adaptive Cards: `one thing …` (Dutch `één ding …`), the
same words as Slack's `/one-thing` after it (`#share` / `#deel`, `share` / `deel`, `unshare` / `privé`),
the home card's button, and the "Still doing it?" card with its form."""

from __future__ import annotations

import html
import re

from core.domain.text import N_
from core.messages import one_thing as views
from core.messages.model import row_id, submitted_text
from core.services import one_thing
from teams_app.bot import Dispatch, Turn
from teams_app.focus import show

S_ONE_THING = N_("The one idea you keep: “one thing ask before assuming #share”, or “one thing” to see yours.")

_MARKUP = re.compile(r"<at\b[^>]*>.*?</at>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_COMMAND_WORDS = re.compile(r"^\s*/?(?:one[\s_-]*thing|[eé][eé]n[\s_-]*ding)\b[\s:.,!-]*", re.IGNORECASE)


def register(dispatch: Dispatch) -> None:
    dispatch.command(("one thing", "één ding", "een ding", "onething"), S_ONE_THING, one_thing_command)
    dispatch.action(views.RECORD_ACTION, record)
    dispatch.action(views.CHECK_ACTION, check)
    dispatch.action(views.FORM, submit_form, once=True)
    dispatch.action(views.CHECK_FORM, submit_check, once=True)


async def one_thing_command(turn: Turn, _rest: str) -> None:
    """The words as typed (the dispatch's normalised text has lost case and punctuation)."""
    raw = html.unescape(_MARKUP.sub(" ", turn.activity.text or ""))
    text = _COMMAND_WORDS.sub("", raw, 1)
    await show(turn, await one_thing.one_thing_command(turn.deps, person=turn.person, text=text))


async def record(turn: Turn, _data: dict) -> None:
    await show(turn, await one_thing.open_form(turn.deps, person=turn.person))


async def check(turn: Turn, data: dict) -> None:
    await show(turn, await one_thing.check_form(turn.deps, person=turn.person, value=submitted_text(data, "value")))


async def submit_form(turn: Turn, data: dict) -> None:
    result = await one_thing.submit_form(turn.deps, person=turn.person, text=submitted_text(data, "text"),
                                         share=submitted_text(data, "share"))
    await show(turn, result.form if isinstance(result, one_thing.Invalid) else result.message, replace=True)


async def submit_check(turn: Turn, data: dict) -> None:
    result = await one_thing.answer_check(turn.deps, person=turn.person, one_thing_id=row_id(data.get("meta")),
                                          answer=submitted_text(data, "answer") or None, note=submitted_text(data, "note"))
    await show(turn, result.form if isinstance(result, one_thing.Invalid) else result.message, replace=True)
