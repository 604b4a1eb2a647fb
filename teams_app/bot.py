"""The Teams bot: activities in, one service call, a card out.

`UnmeetBot` turns each activity into a `Turn` (who, where, in which language), remembers what the
activity says about the person and the conversation (stored references, so jobs can message them
later), and hands it to the dispatch table: command words for text, action ids for card submits.
Features register into the table from their own module (`teams_app/<feature>.py`, `register(dispatch)`).
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ErrorResponseException

from core.config import Settings
from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import E_REQUIRED
from core.domain.text import N_
from core.messages.i18n import Translator, translator
from core.messages.model import Button, Form, Notice, rich
from core.persistence import teams as store
from core.services.deps import Deps
from teams_app.messenger import TeamsMessenger, card_activity, serialise
from teams_app.render import ACTION_KEY, card, form_card, markdown, notice_card

log = logging.getLogger("unmeet.teams")

Run = Callable[["Turn", str], Awaitable[None]]
Act = Callable[["Turn", dict], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    words: tuple[str, ...]  # what people type after the mention, normalised (see `normalise`)
    description: str  # a message id, shown by `help`
    run: Run


@dataclass(frozen=True)
class Action:
    run: Act
    once: bool  # a form: each rendered card may be submitted once (the nonce in its data)


@dataclass
class Dispatch:
    """Command words and card actions of every feature."""

    commands: list[Command] = field(default_factory=list)
    actions: dict[str, Action] = field(default_factory=dict)

    def command(self, words: tuple[str, ...], description: str, run: Run) -> None:
        self.commands.append(Command(tuple(normalise(w) for w in words), description, run))

    def action(self, action_id: str, run: Act, *, once: bool = False) -> None:
        self.actions[action_id] = Action(run, once)

    def find(self, text: str) -> tuple[Command, str] | None:
        """The command whose words start the text (longest first), and the rest of the text."""
        candidates = sorted(((w, c) for c in self.commands for w in c.words), key=lambda p: -len(p[0]))
        for words, command in candidates:
            if text == words or text.startswith(words + " "):
                return command, text[len(words):].strip()
        return None


_MENTION = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def normalise(text: str) -> str:
    """`<at>unmeet</at> Share-Insight!` -> `share insight`: no mentions or markup, one case, dashes
    and underscores as spaces, no leading slash or trailing punctuation."""
    text = html.unescape(_TAGS.sub(" ", _MENTION.sub(" ", text or "")))
    text = re.sub(r"[\s\-_]+", " ", text).strip().lower()
    return text.lstrip("/").strip(" .!?")


S_SORRY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
S_UNKNOWN = N_("Sorry, I don't know “{text}”. This is what I can do:")
S_STALE_CARD = N_("That card is out of date, so I can't use it. This is what I can do:")
S_HELP = N_("This is what I can do. Mention me in a team channel and write:")
S_HELP_COMMAND = N_("Show this list.")
S_TWICE = N_("You already sent this card, so I used it only once.")


class Turn:
    """One activity, with what handlers need to answer it."""

    def __init__(self, context: TurnContext, deps: Deps, messenger: TeamsMessenger, dispatch: Dispatch):
        self.context = context
        self.deps = deps
        self.messenger = messenger
        self.dispatch = dispatch
        activity = context.activity
        data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
        self.tenant = tenant_of(activity)
        self.workspace = WorkspaceRef("teams", self.tenant)
        sender = activity.from_property
        self.person = PersonRef(self.workspace, (sender.id if sender else "") or "")
        self.name = (sender.name if sender else "") or ""
        self.team_id = _dig(data, "team", "id")
        self.team_group = _dig(data, "team", "aadGroupId")  # sent with the install and other team events
        self.channel_id = _dig(data, "channel", "id") if self.team_id else None
        conversation = activity.conversation
        self.personal = bool(conversation and (conversation.conversation_type == "personal"
                                               or (conversation.id or "").startswith("a:")))
        self.t: Translator = translator(activity.locale, None, deps.settings.unmeet_default_locale)

    @property
    def activity(self) -> Activity:
        return self.context.activity

    def mentioned(self) -> PersonRef | None:
        """The one person the message mentions, other than the bot."""
        bot = self.activity.recipient.id if self.activity.recipient else None
        for entity in self.activity.entities or []:
            props = getattr(entity, "additional_properties", None) or {}
            person = props.get("mentioned") if getattr(entity, "type", None) == "mention" else None
            if isinstance(person, dict) and isinstance(person.get("id"), str) and person["id"] != bot:
                return PersonRef(self.workspace, person["id"])
        return None

    async def remember(self) -> None:
        """Store what this activity tells: the person's name, language and time zone, and where the bot
        can reach them, this channel and its team later (from a job, in another process)."""
        now = self.deps.clock.now()
        reference = TurnContext.get_conversation_reference(self.activity)
        async with self.deps.db.transaction() as conn:
            if self.person.id:
                await store.remember_person(conn, self.person, now=now, name=self.name, locale=self.activity.locale,
                                            tz=time_zone(self.activity), reachable=self.personal)
            if self.personal and self.person.id:
                await store.save_reference(conn, self.workspace, store.PERSON, self.person.id,
                                           serialise(reference), now=now)
            if self.team_id:
                for kind, external_id in ((store.TEAM, self.team_id), (store.CHANNEL, self.channel_id)):
                    if external_id:
                        reference.conversation.id = external_id
                        await store.save_reference(conn, self.workspace, kind, external_id, serialise(reference),
                                                   now=now, team_id=self.team_id,
                                                   aad_group_id=self.team_group if kind == store.TEAM else None)

    # --- answering ---------------------------------------------------------------------------------
    async def reply(self, card: dict, summary: str = "") -> str:
        """A new message here: in the 1:1 chat, or in the thread of the activity."""
        response = await self.context.send_activity(card_activity(card, summary))
        return response.id if response else ""

    async def replace(self, card: dict, summary: str = "") -> None:
        """Show `card` in place of the card that was submitted (a form with its errors, a form
        that became a thank-you); a new message if that one can't be changed."""
        card_id = self.activity.reply_to_id
        if card_id:
            try:
                await self.context.update_activity(card_activity(card, summary, id=card_id))
                return
            except ErrorResponseException:
                log.info("could not update card %s; sending a new one", card_id)
        await self.reply(card, summary)

    def form(self, form: Form) -> dict:
        return form_card(form, required_message=self.t.gettext(E_REQUIRED))

    async def notice(self, notice: Notice, *, replace: bool = False, buttons: tuple[Button, ...] = ()) -> None:
        card = notice_card(notice, buttons=notice.actions + buttons)
        await (self.replace(card) if replace else self.reply(card))

    async def help(self, intro: str) -> None:
        """The commands, in the person's language, under a first sentence."""
        lines = [markdown(rich(intro))]
        for command in self.dispatch.commands:
            lines.append(f"**{markdown(rich(command.words[0]))}**: {markdown(rich(self.t.gettext(command.description)))}")
        lines.append(f"**help**: {markdown(rich(self.t.gettext(S_HELP_COMMAND)))}")
        await self.reply(card([{"type": "TextBlock", "text": line, "wrap": True} for line in lines]))


def _dig(data: dict, *keys: str) -> str | None:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) and data else None


def tenant_of(activity: Activity) -> str:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    conversation = activity.conversation
    return _dig(data, "tenant", "id") or (conversation.tenant_id if conversation else None) or ""


def time_zone(activity: Activity) -> str | None:
    """The IANA zone the person's client reports (activity `localTimezone`, or the clientInfo entity)."""
    if activity.local_timezone:
        return activity.local_timezone
    for entity in activity.entities or []:
        props = getattr(entity, "additional_properties", None) or {}
        if getattr(entity, "type", None) == "clientInfo" and isinstance(props.get("timezone"), str):
            return props["timezone"]
    return None


class UnmeetBot(TeamsActivityHandler):
    def __init__(self, deps: Deps, messenger: TeamsMessenger, dispatch: Dispatch, settings: Settings):
        self.deps = deps
        self.messenger = messenger
        self.dispatch = dispatch
        self.allowed = settings.allowed_tenants

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Ignore other tenants before anything is stored; answer every failure with a polite card
        (and a 2xx to Teams, which would otherwise retry the activity)."""
        tenant = tenant_of(turn_context.activity)
        if not tenant or (self.allowed and tenant not in self.allowed):
            log.info("ignoring a %s activity from tenant %r (not allowed)", turn_context.activity.type, tenant)
            return
        try:
            await super().on_turn(turn_context)
        except Exception:  # noqa: BLE001 - a person gets a sentence, never a stack trace or a 500
            log.exception("could not handle a Teams %s activity", turn_context.activity.type)
            if turn_context.activity.type == ActivityTypes.message:
                turn = Turn(turn_context, self.deps, self.messenger, self.dispatch)
                try:
                    await turn.notice(Notice(rich(turn.t.gettext(S_SORRY))))
                except Exception:  # noqa: BLE001 - Teams itself may be what failed
                    log.warning("could not tell the person either", exc_info=True)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        turn = Turn(turn_context, self.deps, self.messenger, self.dispatch)
        if not turn.person.id:
            return
        await turn.remember()
        value = turn_context.activity.value
        if value is not None:
            await self._submitted(turn, value)
            return
        text = normalise(turn_context.activity.text or "")
        if text in ("help", "hulp", ""):
            await turn.help(turn.t.gettext(S_HELP))
            return
        found = self.dispatch.find(text)
        if found is None:
            shown = text if len(text) <= 60 else text[:59] + "…"
            await turn.help(turn.t.gettext(S_UNKNOWN, text=shown))
            return
        command, rest = found
        await command.run(turn, rest)

    async def _submitted(self, turn: Turn, value) -> None:
        action = self.dispatch.actions.get(value.get(ACTION_KEY)) if isinstance(value, dict) else None
        if action is None:
            await turn.help(turn.t.gettext(S_STALE_CARD))
            return
        if action.once:
            nonce = value.get("nonce")
            if not isinstance(nonce, str) or not nonce:
                await turn.help(turn.t.gettext(S_STALE_CARD))
                return
            async with self.deps.db.transaction() as conn:
                first = await store.first_submit(conn, nonce, self.deps.clock.now())
            if not first:
                await turn.notice(Notice(rich(turn.t.gettext(S_TWICE))))
                return
        await action.run(turn, value)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        """The app installed in a team, people joining or leaving: store references, mark leavers.
        (TeamsActivityHandler's own version looks up every added member one by one; not needed.)"""
        turn = Turn(turn_context, self.deps, self.messenger, self.dispatch)
        activity = turn_context.activity
        now = self.deps.clock.now()
        reference = TurnContext.get_conversation_reference(activity)
        bot_id = activity.recipient.id if activity.recipient else None
        async with self.deps.db.transaction() as conn:
            if turn.team_id:
                reference.conversation.id = turn.team_id
                for kind in (store.TEAM, store.CHANNEL):  # the General channel's id is the team id
                    await store.save_reference(conn, turn.workspace, kind, turn.team_id, serialise(reference),
                                               now=now, team_id=turn.team_id,
                                               aad_group_id=turn.team_group if kind == store.TEAM else None)
                if turn.person.id and any(m.id == bot_id for m in activity.members_added or []):
                    await store.save_reference(conn, turn.workspace, store.INSTALL, turn.team_id,
                                               serialise(reference), now=now, team_id=turn.team_id)
            elif turn.personal and turn.person.id:
                await store.save_reference(conn, turn.workspace, store.PERSON, turn.person.id,
                                           serialise(reference), now=now)
            for member in activity.members_removed or []:
                if member.id and member.id != bot_id and turn.team_id:
                    await store.remember_person(conn, PersonRef(turn.workspace, member.id), now=now, left=True)
            for member in activity.members_added or []:
                if member.id and member.id != bot_id and turn.team_id:
                    await store.remember_person(conn, PersonRef(turn.workspace, member.id), now=now,
                                                name=member.name, left=False)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        """Installed for a person or in a team: the reference arrives here first."""
        turn = Turn(turn_context, self.deps, self.messenger, self.dispatch)
        if (turn_context.activity.action or "").startswith("add"):
            await turn.remember()

