"""Programme mode on Teams, as bot messages with Adaptive Cards: `programme …` (Dutch `traject …`), the
same words as Slack's `/programme` after it (`status`, `new` / `nieuw`, `copy` / `kopieer`, `export`,
`remove @name` / `verwijder @naam` with a Teams mention),
the setup card (in a team channel: its members are the cohort) and the "Programme status" button.
Teams bots can't attach a file to a chat message without a consent card, so the export's CSV comes as
the card's text, ready to copy."""

from __future__ import annotations

from dataclasses import replace

from core.domain.programmes import MAX_ASSIGNMENTS, Setup
from core.domain.text import N_
from core.messages import programmes as views
from core.messages.model import Message, Notice, Section, rich, submitted_text
from core.services import programmes
from teams_app.bot import Dispatch, Turn
from teams_app.focus import show
from teams_app.rounds import card_date, known_channel

S_PROGRAMME = N_("A coach's programme for a cohort: “programme new” in the cohort's channel, “programme status”, "
                 "“programme export”, “programme copy”.")
S_CHANNEL_ONLY = N_("Set a programme up in the channel whose members are the cohort: mention me there with "
                    "“programme new”.")


def register(dispatch: Dispatch) -> None:
    dispatch.command(("programme", "program", "traject"), S_PROGRAMME, programme_command)
    dispatch.action(views.STATUS_ACTION, status)
    dispatch.action(views.SETUP_FORM, submit_setup, once=True)


def _inline_files(result):
    """The export's CSV as the card's own text (see the module's note)."""
    if not isinstance(result, Message) or not result.attachments:
        return result
    files = tuple(Section(rich(f.content.decode("utf-8"))) for f in result.attachments)
    return replace(result, blocks=result.blocks + files, attachments=())


async def programme_command(turn: Turn, rest: str) -> None:
    word = rest.strip().lower()
    if word in ("new", "nieuw", "copy", "kopieer") and not turn.channel_id:
        await turn.notice(Notice(rich(turn.t.gettext(S_CHANNEL_ONLY))))
        return
    result = await programmes.programme_command(turn.deps, person=turn.person, text=word, channel_id=turn.channel_id,
                                                who=turn.mentioned())
    await show(turn, _inline_files(result))


async def status(turn: Turn, _data: dict) -> None:
    await show(turn, await programmes.status(turn.deps, person=turn.person))


async def submit_setup(turn: Turn, data: dict) -> None:
    setup = Setup(name=submitted_text(data, "name"), channel_id=await known_channel(turn, submitted_text(data, "channel")),
                  dates=tuple(card_date(submitted_text(data, f"session{n}")) for n in range(1, 4)),
                  titles=tuple(submitted_text(data, f"assignment{i}") for i in range(MAX_ASSIGNMENTS) if f"assignment{i}" in data))
    result = await programmes.submit_setup(turn.deps, person=turn.person, setup=setup, metadata=submitted_text(data, "meta"))
    await show(turn, result.form if isinstance(result, programmes.Invalid) else result.message, replace=True)
