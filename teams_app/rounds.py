"""Reflection rounds on Teams: the `share insight` command and the round's cards.

- `share insight` (also `share-insight`, Dutch `deel inzicht`) in a team channel: the share form as
  a card in the thread. Its submit starts the round (or asks to confirm a large audience).
- "Answer" on the channel post: the answer form in the person's 1:1 chat with the bot (opened if
  needed); if the bot can't reach them there, the form (without earlier answers, as the thread is
  public) in the thread. "Answer" in the 1:1 chat: the form right under the questions.
- Submitting the answer form turns that card into a thank-you with "Change my answers".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from core.domain.rounds import ShareInput
from core.domain.text import N_
from core.messages import rounds as views
from core.messages.model import Button, Form, Notice, TextInput, rich, row_id, submitted_text
from core.persistence import teams as store
from core.ports import Unreachable
from core.services import rounds
from teams_app.bot import S_STALE_CARD, Dispatch, Turn

S_SHARE = N_("Share a document, video or text with three reflection questions; everyone answers in their own time.")
S_CHANNEL_ONLY = N_("Sharing an insight works in a team channel: mention me there and write “share insight”.")
S_CHANGE = N_("Change my answers")


def register(dispatch: Dispatch) -> None:
    dispatch.command(("share insight", "share-insight", "deel inzicht", "deel-inzicht"), S_SHARE, share)
    dispatch.action(views.SHARE_FORM, submit_share, once=True)
    dispatch.action(views.CONFIRM_FORM, submit_confirm, once=True)
    dispatch.action(views.ANSWER_ACTION, press_answer)
    dispatch.action(views.ANSWER_FORM, submit_answer, once=True)


def card_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


async def share(turn: Turn, _rest: str) -> None:
    if not turn.channel_id:
        await turn.notice(Notice(rich(turn.t.gettext(S_CHANNEL_ONLY))))
        return
    form = await rounds.share_form(turn.deps, author=turn.person, channel_id=turn.channel_id)
    await turn.reply(turn.form(form), form.title)


async def known_channel(turn: Turn, channel_id: str) -> str:
    """The channel named in the card, if the bot knows it in this tenant (else core asks for one)."""
    if not channel_id:
        return ""
    async with turn.deps.db.transaction() as conn:
        found = (await store.get_reference(conn, turn.workspace, store.CHANNEL, channel_id)
                 or await store.get_reference(conn, turn.workspace, store.TEAM, channel_id))
    return channel_id if found else ""


async def submit_share(turn: Turn, data: dict) -> None:
    share_input = ShareInput(
        title=submitted_text(data, "title"), link=submitted_text(data, "link"), text=submitted_text(data, "text"),
        questions=(submitted_text(data, "q1"), submitted_text(data, "q2"), submitted_text(data, "q3")),
        deadline=card_date(submitted_text(data, "deadline")), share_mode=submitted_text(data, "share_mode"),
        channel_id=await known_channel(turn, submitted_text(data, "channel")))
    result = await rounds.share_insight(turn.deps, author=turn.person, data=share_input)
    await _show(turn, result)


async def submit_confirm(turn: Turn, data: dict) -> None:
    round_id = row_id(data.get("meta"))
    if round_id is None:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    await _show(turn, await rounds.confirm_share(turn.deps, author=turn.person, round_id=round_id))


async def _show(turn: Turn, result, buttons: tuple[Button, ...] = ()) -> None:
    """A service result in place of the submitted card: the form again, or what happened."""
    if isinstance(result, (rounds.Invalid, rounds.Confirm)):
        await turn.replace(turn.form(result.form), result.form.title)
    elif result.notice is not None:
        await turn.notice(result.notice, replace=True, buttons=buttons)


async def press_answer(turn: Turn, data: dict) -> None:
    round_id = row_id(data.get("value"))
    if round_id is None:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    result = await rounds.answer_form(turn.deps, person=turn.person, round_id=round_id)
    if isinstance(result, Notice):
        await turn.notice(result)
    elif turn.personal:
        await turn.reply(turn.form(result), result.title)
    else:
        try:
            await turn.messenger.send_card(turn.person, turn.form(result), summary=result.title)
        except Unreachable:
            await turn.reply(turn.form(_without_answers(result)), result.title)


def _without_answers(form: Form) -> Form:
    return replace(form, inputs=tuple(replace(i, initial="") if isinstance(i, TextInput) else i
                                      for i in form.inputs))


async def submit_answer(turn: Turn, data: dict) -> None:
    round_id = row_id(data.get("meta"))
    if round_id is None:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    texts = tuple(submitted_text(data, f"a{i}") for i in range(1, 4))
    result = await rounds.record_answer(turn.deps, person=turn.person, round_id=round_id, texts=texts)
    change = Button(turn.t.gettext(S_CHANGE), views.ANSWER_ACTION, str(round_id))
    await _show(turn, result, buttons=(change,) if turn.personal else ())
