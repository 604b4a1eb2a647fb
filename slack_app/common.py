"""What every Slack feature needs: who and where a payload is from, a translator for that person,
showing a notice, and the listeners that answer whatever no feature handles (registered last)."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.text import N_
from core.messages.i18n import Translator, translator
from core.messages.model import Notice, rich
from core.services import events, focus
from core.services.deps import Deps
from core.services.rounds import known_person, person_translator
from slack_app.bots import SlackBots
from slack_app.messenger import show_notice  # what the handlers use to answer one person

log = logging.getLogger("unmeet.slack")

# Slack ids (T…, U…, W…, C…, G…, D…, E…) are short and alphanumeric; anything else is not from Slack
# and must not reach the database or the Web API.
_ID = re.compile(r"^[A-Z0-9]{2,40}$")

STALE_BUTTON = N_("That button doesn't work any more. If it belongs to an older message, look for the "
                  "latest one from unmeet.")
UNKNOWN_FORM = N_("This form is no longer available. Please open it again from the message or the command.")
UNKNOWN_COMMAND = N_("Sorry, unmeet doesn't know that command.")
TRY_AGAIN = N_("Something went wrong on our side. Please try again in a minute.")


def slack_id(value) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None


def _get(body: dict, *path):
    node = body
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def workspace_of(body: dict) -> WorkspaceRef | None:
    """The workspace a payload comes from: `team.id` (interactivity) or `team_id` (commands, events)."""
    team = slack_id(_get(body, "team", "id")) or slack_id(body.get("team_id")) or slack_id(_get(body, "user", "team_id"))
    return WorkspaceRef("slack", team) if team else None


def person_of(body: dict) -> PersonRef | None:
    workspace = workspace_of(body)
    user = slack_id(_get(body, "user", "id")) or slack_id(body.get("user_id"))
    return PersonRef(workspace, user) if workspace and user else None


def button_value(body: dict) -> str:
    """The value of the button that was pressed ("" when the payload has none)."""
    actions = body.get("actions")
    value = actions[0].get("value") if isinstance(actions, list) and actions and isinstance(actions[0], dict) else None
    return value if isinstance(value, str) else ""


def channel_of(body: dict) -> str | None:
    """The conversation a command was typed in or a button was pressed in (a channel or a DM)."""
    return (slack_id(_get(body, "channel", "id")) or slack_id(body.get("channel_id"))
            or slack_id(_get(body, "container", "channel_id")))


async def translator_for(deps: Deps, person: PersonRef | None) -> Translator:
    """The person's language (their Slack locale, then the workspace's, then the default)."""
    if person is None:
        return translator(None, None, deps.settings.unmeet_default_locale)
    return await person_translator(deps, await known_person(deps, person))


async def notify(deps: Deps, client: AsyncWebClient, body: dict, message_id: str, channel: str | None = None) -> None:
    """A fixed sentence (a message id) to the person behind `body`, in their language."""
    person = person_of(body)
    if person is None:
        return
    t = await translator_for(deps, person)
    await show_notice(client, person, channel or channel_of(body), Notice(rich(t.gettext(message_id))))


def register_platform_events(app: AsyncApp, deps: Deps, bots: SlackBots) -> None:
    """Redelivered events have their effect once; an uninstall stops all work for that workspace until
    it uses the app again."""

    @app.middleware
    async def once_per_event(body, next):
        """Slack re-sends an event it thinks we missed (same `event_id`, `X-Slack-Retry-Num` set)."""
        event_id = body.get("event_id") if isinstance(body, dict) and body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and event_id:
            if not await events.first_sighting(deps, event_id[:128]):
                log.info("event %s arrived again; it was handled the first time", event_id[:128])
                return BoltResponse(status=200, body="")
        await next()

    @app.middleware
    async def workspace_back(body, next):
        """Any request from a workspace except its uninstall (and the token revocations Slack sends with
        it) means the app is installed there: its jobs may run again."""
        workspace = workspace_of(body) if isinstance(body, dict) else None
        if workspace is not None and _get(body, "event", "type") not in ("app_uninstalled", "tokens_revoked"):
            await events.workspace_seen(deps, workspace)
        await next()

    @app.event("app_uninstalled")
    async def uninstalled(body):
        """The workspace's bot token is deleted (an installed workspace's; SLACK_BOT_TOKEN is the
        operator's to remove) and its work stops; other workspaces are untouched."""
        workspace = workspace_of(body)
        if workspace is not None:
            await bots.remove(workspace)
            await events.workspace_uninstalled(deps, workspace)

    @app.event("tokens_revoked")
    async def tokens_revoked(body):
        """Only what is listed goes: the people's own tokens (focus status, do-not-disturb), and the
        workspace's bot token when the bot is listed."""
        workspace = workspace_of(body)
        users = [u for u in _get(body, "event", "tokens", "oauth") or [] if slack_id(u)]
        log.info("tokens revoked in %s", body.get("team_id"))
        if workspace is not None and _get(body, "event", "tokens", "bot"):
            await bots.remove(workspace)
        if workspace is not None and users:
            await focus.drop_user_tokens(deps, workspace=workspace, user_ids=users)


def register_fallbacks(app: AsyncApp, deps: Deps) -> None:
    """Answer what no feature claimed, politely, so a stale button or an unknown form never shows
    the person an error from Slack. Registered after every feature: Bolt runs the first listener
    that matches."""
    anything = re.compile(".*")

    @app.action(anything)
    async def unknown_action(ack, body, client):
        await ack()
        log.info("unhandled action %s", [_get(a, "action_id") for a in body.get("actions") or []][:3])
        await notify(deps, client, body, STALE_BUTTON)

    @app.view(anything)
    async def unknown_view(ack, body, client):
        await ack(response_action="clear")
        log.info("unhandled view submission %r", str(_get(body, "view", "callback_id"))[:80])
        await notify(deps, client, body, UNKNOWN_FORM)

    @app.view_closed(anything)
    async def closed_view(ack):
        await ack()

    @app.command(anything)
    async def unknown_command(ack, body):
        t = await translator_for(deps, person_of(body))
        log.info("unhandled command %r", str(body.get("command"))[:80])
        await ack(text=t.gettext(UNKNOWN_COMMAND))

    @app.shortcut(anything)
    async def unknown_shortcut(ack, body, client):
        await ack()
        log.info("unhandled shortcut %r", str(body.get("callback_id"))[:80])
        await notify(deps, client, body, UNKNOWN_FORM)

    @app.options(anything)
    async def unknown_options(ack):
        await ack(options=[])

    @app.event(anything)
    async def other_event(body):
        log.debug("ignored event %r", str(_get(body, "event", "type"))[:80])
