"""The digest, the home view and the channel settings on Teams.

- `home` (Dutch `overzicht`): the person's open rounds (with Answer), focus week and recent meeting
  checks — the Slack App Home as a card.
- `digest` (`weekoverzicht`), in a channel: that channel's week so far.
- `settings` (`instellingen`), in a channel: the settings form; its submit stores them.

Teams has no ephemeral messages, and a reply in a channel is seen by the whole team, so all three
answer in the person's 1:1 chat with the bot (opened if needed) and leave a one-line pointer in the
channel thread. The weekly digest itself is posted by the job (core.services.digest) through
TeamsMessenger.post, with the chart as an image in the card.

Who may change settings: a bot can't see team owners without Microsoft Graph (the roster's
`userRole` only says user or guest). The closest signal a bot gets is who added the app to the
team (the `from` of that conversationUpdate): they manage the settings of that team's channels.
Tenant-wide settings (weekly focus goal, AI summaries) are for the people the operator lists in
`TEAMS_ADMINS` (Entra object ids), who may also change every channel's settings.
"""

from __future__ import annotations

from core.domain.refs import ChannelRef
from core.domain.text import N_
from core.messages.digest import SETTINGS_ACTION, SETTINGS_FORM
from core.messages.model import Form, Message, Notice, rich
from core.persistence import teams as store
from core.ports import Unreachable
from core.services import digest, home, settings
from core.services.settings import Authority
from teams_app.bot import S_STALE_CARD, Dispatch, Turn
from teams_app.render import message_card, notice_card

S_HOME = N_("Your rounds to answer, your focus week and your recent meeting checks.")
S_DIGEST = N_("This channel's digest of the week so far, only for you.")
S_SETTINGS = N_("The digest's day, time, time zone and language for this channel.")
S_SENT = N_("I sent it to you in our chat.")
S_NO_CHAT = N_("I can't start a chat with you. Open a chat with unmeet in Teams, then ask me again.")
S_IN_CHANNEL = N_("Mention me in the channel you mean and write “{command}”.")


def register(dispatch: Dispatch) -> None:
    dispatch.command(("home", "overzicht"), S_HOME, show_home)
    dispatch.command(("digest", "weekoverzicht"), S_DIGEST, show_digest)
    dispatch.command(("settings", "instellingen"), S_SETTINGS, show_settings)
    dispatch.action(SETTINGS_ACTION, settings_pressed)
    dispatch.action(SETTINGS_FORM, submit_settings, once=True)


async def privately(turn: Turn, result: Message | Form | Notice) -> None:
    """In the 1:1 chat: right here, or from a channel in the person's chat plus a pointer in the thread."""
    if isinstance(result, Form):
        card, summary = turn.form(result), result.title
    elif isinstance(result, Notice):
        card, summary = notice_card(result), ""
    else:
        card, summary = message_card(result), result.fallback
    if turn.personal:
        await turn.reply(card, summary)
        return
    try:
        await turn.messenger.send_card(turn.person, card, summary=summary)
    except Unreachable:
        await turn.notice(Notice(rich(turn.t.gettext(S_NO_CHAT))))
        return
    await turn.notice(Notice(rich(turn.t.gettext(S_SENT))))


async def authority(turn: Turn, channel_id: str) -> Authority | None:
    """What Teams lets the bot know about the person and this channel; None for a channel it doesn't know."""
    async with turn.deps.db.transaction() as conn:
        stored = (await store.get_reference(conn, turn.workspace, store.CHANNEL, channel_id)
                  or await store.get_reference(conn, turn.workspace, store.TEAM, channel_id))
        if stored is None:
            return None
        installer = await store.installer(conn, turn.workspace, stored.team_id or stored.external_id)
    sender = turn.activity.from_property
    admins = {a.strip() for a in turn.deps.settings.teams_admins.split(",") if a.strip()}
    admin = bool(admins & {turn.person.id, getattr(sender, "aad_object_id", None) or ""})
    return Authority(channel_manager=installer == turn.person.id, workspace_admin=admin)


async def _in_channel(turn: Turn, command: str) -> bool:
    if turn.channel_id:
        return True
    await turn.notice(Notice(rich(turn.t.gettext(S_IN_CHANNEL, command=command))))
    return False


async def show_home(turn: Turn, _rest: str) -> None:
    await privately(turn, await home.home(turn.deps, person=turn.person))


async def show_digest(turn: Turn, _rest: str) -> None:
    if await _in_channel(turn, "digest"):
        channel = ChannelRef(turn.workspace, turn.channel_id)
        await privately(turn, await digest.current_digest(turn.deps, person=turn.person, channel=channel))


async def show_settings(turn: Turn, _rest: str) -> None:
    if not await _in_channel(turn, "settings"):
        return
    channel = ChannelRef(turn.workspace, turn.channel_id)
    power = await authority(turn, turn.channel_id) or Authority()
    await privately(turn, await settings.settings_form(turn.deps, person=turn.person, channel=channel,
                                                       authority=power))


async def settings_pressed(turn: Turn, _data: dict) -> None:
    """The home card's "Channel settings": the card can't know which channel is meant."""
    await turn.notice(Notice(rich(turn.t.gettext(S_IN_CHANNEL, command="settings"))))


async def submit_settings(turn: Turn, data: dict) -> None:
    channel = data.get("meta")
    power = await authority(turn, channel) if isinstance(channel, str) and channel else None
    if power is None:
        await turn.help(turn.t.gettext(S_STALE_CARD))
        return
    values = {key: value for key, value in data.items() if isinstance(value, str)}
    result = await settings.save_settings(turn.deps, person=turn.person, values={**values, "channel": channel},
                                          authority=power)
    if isinstance(result, settings.Invalid):
        await turn.replace(turn.form(result.form), result.form.title)
    elif result.notice is not None:
        await turn.notice(result.notice, replace=True)
