"""`/unmeet digest | settings | help`, the settings modal, and the App Home tab on Slack.

Who may change a channel's settings: workspace admins and owners (`users.info` is_admin / is_owner)
and the channel's creator (`conversations.info` creator). Slack's "channel manager" role is not
visible to apps through the Web API, so the creator is the closest signal a bot token can read.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.refs import ChannelRef, PersonRef
from core.domain.text import N_
from core.messages.digest import SETTINGS_ACTION, SETTINGS_FORM, help_message
from core.messages.model import Message, Notice, rich
from core.services import digest, home, settings
from core.services.deps import Deps
from core.services.settings import Authority
from slack_app import render
from slack_app.common import channel_of, person_of, show_notice, translator_for

log = logging.getLogger("unmeet.slack.digest")

COMMAND = "/unmeet"

COMMANDS = (
    ("/share-insight", N_("share a document, video or text with three reflection questions")),
    ("/focus", N_("start focus time, see your week, plan focus blocks")),
    ("/meeting-check", N_("check whether a meeting is needed, or could be async")),
    ("/one-thing", N_("record the one idea you keep, share it with the team digest (#share), or see yours")),
    ("/stuck", N_("note when you were stuck waiting for a decision, or start the team's stuck log (start)")),
    ("/unmeet digest", N_("this week's digest so far, only for you")),
    ("/unmeet settings", N_("digest day and time, time zone and language for this channel")),
    ("/unmeet help", N_("this list")),
)
SETTINGS_IN_CHANNEL = N_("Type /unmeet settings in the channel whose settings you want to change.")


async def authority(client: AsyncWebClient, person: PersonRef, channel: str | None) -> Authority:
    """What Slack says about this person: workspace admin/owner, creator of the channel."""
    try:
        user = (await client.users_info(user=person.id))["user"]
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        creator = None
        if channel and channel[0] in "CG":
            creator = (await client.conversations_info(channel=channel))["channel"].get("creator")
    except SlackApiError as error:
        log.info("could not read roles of %s: %s", person.id, error.response.get("error"))
        return Authority()
    return Authority(channel_manager=creator == person.id, workspace_admin=admin)


async def publish_home(deps: Deps, person: PersonRef, *, opened: bool = False) -> None:
    await deps.messenger(person.workspace.platform).publish_home(person, await home.home(deps, person=person,
                                                                                          opened=opened))


async def _ephemeral(client: AsyncWebClient, person: PersonRef, channel: str | None, message: Message) -> None:
    if channel is None:
        return
    await client.chat_postEphemeral(channel=channel, user=person.id, **render.message(message))


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def unmeet_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        word = str(body.get("text") or "").strip().split(" ")[0].lower()
        if word == "digest" and channel:
            result = await digest.current_digest(deps, person=person, channel=ChannelRef(person.workspace, channel))
            if isinstance(result, Notice):
                await show_notice(client, person, channel, result)
            else:
                await _ephemeral(client, person, channel, result)
        elif word == "settings" and channel:
            form = await settings.settings_form(deps, person=person, channel=ChannelRef(person.workspace, channel),
                                                authority=await authority(client, person, channel))
            if isinstance(form, Notice):
                await show_notice(client, person, channel, form)
            else:
                await client.views_open(trigger_id=body.get("trigger_id"), view=render.modal(form))
        else:
            t = await translator_for(deps, person)
            await _ephemeral(client, person, channel, help_message(t, COMMANDS))

    @app.view(SETTINGS_FORM)
    async def settings_submitted(ack, body, client):
        person = person_of(body)
        view = body.get("view") or {}
        channel = view.get("private_metadata") if isinstance(view.get("private_metadata"), str) else None
        if person is None or not channel:
            await ack(response_action="clear")
            return
        values = {**render.form_values(view), "channel": channel}
        result = await settings.save_settings(deps, person=person, values=values,
                                              authority=await authority(client, person, channel))
        if isinstance(result, settings.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        if result.notice is not None:
            await show_notice(client, person, channel, result.notice)

    @app.action(SETTINGS_ACTION)
    async def settings_pressed(ack, body, client):
        await ack()
        person = person_of(body)
        if person is not None:
            t = await translator_for(deps, person)
            await show_notice(client, person, None, Notice(rich(t.gettext(SETTINGS_IN_CHANNEL))))

    @app.event("app_home_opened")
    async def home_opened(body, event):
        person = person_of({"team_id": body.get("team_id"), "user_id": event.get("user")})
        if person is not None and event.get("tab", "home") == "home":
            await publish_home(deps, person, opened=True)
