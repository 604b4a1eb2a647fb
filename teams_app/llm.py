"""LLM help on Teams: "Draft with AI" in the share form card, and the author's summary of an open round
(`summary`, Dutch `samenvatting`, or the "Summarise now" button).

Teams has no message only one person sees in a channel, so the summary goes to the author's 1:1
chat with the bot, never into the thread.
"""

from __future__ import annotations

from core.domain.rounds import ShareInput
from core.domain.text import N_
from core.messages.llm import DRAFT_ACTION, SUMMARISE_NOW_ACTION
from core.messages.model import Message, Notice, rich, row_id, submitted_text
from core.ports import Unreachable
from core.services import llm as service
from core.services import rounds
from teams_app.bot import S_STALE_CARD, Dispatch, Turn
from teams_app.render import message_card
from teams_app.rounds import card_date, known_channel

S_SUMMARY = N_("Your open round summarised so far, only for you (you shared it).")
S_SUMMARY_SENT = N_("I sent you the summary in our chat.")
S_NO_CHAT = N_("I can't reach you in a chat of your own. Open a chat with unmeet, then ask again.")


def register(dispatch: Dispatch) -> None:
    dispatch.command(("summary", "summarise", "summarize", "samenvatting"), S_SUMMARY, summary)
    dispatch.action(SUMMARISE_NOW_ACTION, summarise_pressed)
    dispatch.action(DRAFT_ACTION, draft_pressed)


async def summary(turn: Turn, _rest: str) -> None:
    """The author's latest open round in this channel (anywhere, in the 1:1 chat)."""
    await _show_summary(turn, await service.summarise_now(turn.deps, person=turn.person, channel_id=turn.channel_id))


async def summarise_pressed(turn: Turn, data: dict) -> None:
    round_id = row_id(data.get("value"))
    if round_id is None:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    await _show_summary(turn, await service.summarise_now(turn.deps, person=turn.person, round_id=round_id))


async def _show_summary(turn: Turn, result: Message | Notice) -> None:
    if isinstance(result, Notice):
        await turn.notice(result)
        return
    card = message_card(result)
    if turn.personal:
        await turn.reply(card, result.fallback)
        return
    try:
        await turn.messenger.send_card(turn.person, card, summary=result.fallback)
    except Unreachable:
        await turn.notice(Notice(rich(turn.t.gettext(S_NO_CHAT))))
        return
    await turn.notice(Notice(rich(turn.t.gettext(S_SUMMARY_SENT))))


async def draft_pressed(turn: Turn, data: dict) -> None:
    """The share card's button: the card becomes the same form, drafted from its Title and Text.
    The button's data has no channel (only the form's submit has), so when the activity doesn't name
    one it is the channel of the card's thread (`<channel>;messageid=…`): Teams shows no channel
    input, and a drafted form without one could never be shared."""
    thread = (turn.activity.conversation.id or "") if turn.activity.conversation else ""
    channel_id = turn.channel_id or await known_channel(turn, thread.split(";", 1)[0])
    base = ShareInput(title=submitted_text(data, "title"), link=submitted_text(data, "link"), text=submitted_text(data, "text"),
                      questions=(submitted_text(data, "q1"), submitted_text(data, "q2"), submitted_text(data, "q3")),
                      deadline=card_date(submitted_text(data, "deadline")), share_mode=submitted_text(data, "share_mode"),
                      channel_id=channel_id)
    bullets = "\n".join(part for part in (base.title, base.text) if part.strip())
    draft = await service.draft_insight(turn.deps, author=turn.person, bullets=bullets, base=base, in_form=True)
    if isinstance(draft, Notice):
        await turn.notice(draft)
        return
    form = await rounds.share_form(turn.deps, author=turn.person, channel_id=base.channel_id, prefill=draft.data)
    await turn.replace(turn.form(form), form.title)
    if draft.notice is not None:
        await turn.notice(draft.notice)
