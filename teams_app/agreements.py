"""Team agreements on Teams: `agreements` / `afspraken` in a team channel (show; `edit` / `bewerk`
opens the card form; `prepare` / `voorbereiden` sends the questionnaire), the form's Publish, and
the action owner's "Done / Not yet / Drop" buttons in their 1:1 chat."""

from __future__ import annotations

from core.domain.agreements import form_input
from core.domain.text import N_
from core.messages import agreements as views
from core.messages.model import Form, Notice, rich
from core.services import agreements
from teams_app.bot import Dispatch, Turn
from teams_app.render import message_card

S_AGREEMENTS = N_("The team's agreement: “agreements” shows it, “agreements edit” changes and publishes it, "
                  "“agreements prepare” sends the questionnaire first.")
S_AGREEMENTS_CHANNEL = N_("Team agreements belong to a team channel: mention me there and write “agreements”.")


def register(dispatch: Dispatch) -> None:
    dispatch.command(("agreements", "afspraken", "agreement"), S_AGREEMENTS, agreements_command)
    dispatch.action(views.EDIT_FORM, submit_edit, once=True)
    dispatch.action(views.ACTION_STATE, action_state)


async def _show(turn: Turn, result, *, replace: bool = False) -> None:
    if isinstance(result, Form):
        card, summary = turn.form(result), result.title
    else:
        card, summary = message_card(result), result.fallback
    await (turn.replace(card, summary) if replace else turn.reply(card, summary))


async def agreements_command(turn: Turn, rest: str) -> None:
    if not turn.channel_id:
        await turn.notice(Notice(rich(turn.t.gettext(S_AGREEMENTS_CHANNEL))))
        return
    result = await agreements.agreements_command(turn.deps, person=turn.person, channel_id=turn.channel_id, text=rest)
    await _show(turn, result)


async def submit_edit(turn: Turn, data: dict) -> None:
    meta = data.get("meta") if isinstance(data.get("meta"), str) else ""
    result = await agreements.submit_agreement(turn.deps, person=turn.person, metadata=meta, data=form_input(data))
    await _show(turn, result.form if isinstance(result, agreements.Invalid) else result.message, replace=True)


async def action_state(turn: Turn, data: dict) -> None:
    value = data.get("value") if isinstance(data.get("value"), str) else ""
    await _show(turn, await agreements.set_action_state(turn.deps, person=turn.person, value=value), replace=True)
