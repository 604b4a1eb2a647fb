"""The Driver's Seat on Teams, as bot messages with Adaptive Cards: `drivers seat …` (Dutch `stuur …`),
the same words as Slack's `/drivers-seat` after it (`start [days]`, `stop`, `share @coach` — a Teams
mention —, `unshare`), the morning and evening cards with their forms, the coach's feedback card with
"Draft feedback", and the home card's "Start a week"."""

from __future__ import annotations

import html
import re

from core.domain.text import N_
from core.messages import drivers_seat as views
from core.messages.model import submitted_text
from core.services import drivers_seat as seat
from teams_app.bot import Dispatch, Turn
from teams_app.focus import show

S_DRIVERS_SEAT = N_("A week of three tasks a morning, rated at the end of the day: “drivers seat start”, "
                    "“drivers seat share @coach”, or “drivers seat” to see your run.")

_MARKUP = re.compile(r"<at\b[^>]*>.*?</at>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_COMMAND_WORDS = re.compile(r"^\s*/?(?:driver'?s?[\s_-]*seat|stuur)\b[\s:.,!-]*", re.IGNORECASE)


def register(dispatch: Dispatch) -> None:
    dispatch.command(("drivers seat", "driver's seat", "driver seat", "stuur"), S_DRIVERS_SEAT, drivers_seat_command)
    dispatch.action(views.START_ACTION, start)
    dispatch.action(views.PLAN_ACTION, plan)
    dispatch.action(views.SKIP_ACTION, skip)
    dispatch.action(views.RATE_ACTION, rate)
    dispatch.action(views.FEEDBACK_ACTION, feedback)
    dispatch.action(views.DRAFT_ACTION, draft)
    dispatch.action(views.TASKS_FORM, submit_tasks, once=True)
    dispatch.action(views.RATINGS_FORM, submit_ratings, once=True)
    dispatch.action(views.FEEDBACK_FORM, submit_feedback, once=True)


async def drivers_seat_command(turn: Turn, _rest: str) -> None:
    """The words as typed, with the coach's mention read from the activity's entities."""
    raw = html.unescape(_MARKUP.sub(" @ ", turn.activity.text or ""))
    text = _COMMAND_WORDS.sub("", raw.strip().lstrip("@ ").strip(), 1)
    await show(turn, await seat.command(turn.deps, person=turn.person, text=text, coach=turn.mentioned()))


async def start(turn: Turn, _data: dict) -> None:
    await show(turn, await seat.start(turn.deps, person=turn.person))


async def plan(turn: Turn, data: dict) -> None:
    await show(turn, await seat.plan_form(turn.deps, person=turn.person, value=submitted_text(data, "value")))


async def skip(turn: Turn, data: dict) -> None:
    await show(turn, await seat.skip(turn.deps, person=turn.person, value=submitted_text(data, "value")))


async def rate(turn: Turn, data: dict) -> None:
    await show(turn, await seat.rate_form(turn.deps, person=turn.person, value=submitted_text(data, "value")))


async def feedback(turn: Turn, data: dict) -> None:
    await show(turn, await seat.feedback_form(turn.deps, person=turn.person, value=submitted_text(data, "value")))


async def draft(turn: Turn, data: dict) -> None:
    form = await seat.draft_feedback(turn.deps, person=turn.person, value=submitted_text(data, "meta"),
                                     typed=submitted_text(data, "feedback"))
    await show(turn, form, replace=True)


async def submit_tasks(turn: Turn, data: dict) -> None:
    result = await seat.save_tasks(turn.deps, person=turn.person, value=submitted_text(data, "meta"),
                                   kinds=tuple(submitted_text(data, f"kind{n}") or None for n in (1, 2, 3)),
                                   texts=tuple(submitted_text(data, f"task{n}") for n in (1, 2, 3)))
    await show(turn, result.form if isinstance(result, seat.Invalid) else result.message, replace=True)


async def submit_ratings(turn: Turn, data: dict) -> None:
    result = await seat.save_ratings(turn.deps, person=turn.person, value=submitted_text(data, "meta"),
                                     ratings=tuple(submitted_text(data, f"rating{n}") or None for n in (1, 2, 3)),
                                     whys=tuple(submitted_text(data, f"why{n}") for n in (1, 2, 3)))
    await show(turn, result.form if isinstance(result, seat.Invalid) else result.message, replace=True)


async def submit_feedback(turn: Turn, data: dict) -> None:
    result = await seat.send_feedback(turn.deps, person=turn.person, value=submitted_text(data, "meta"),
                                      text=submitted_text(data, "feedback"))
    await show(turn, result.form if isinstance(result, seat.Invalid) else result.message, replace=True)
