"""The meeting check on Slack: `/meeting-check`, the message shortcut "Do we need to meet?", the form,
the verdict (a DM from the app), and "Start an async round instead" (the share modal, pre-filled).
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from core.domain.meetings import CheckInput
from core.messages.meetings import CHECK_FORM, TO_ASYNC_ACTION
from core.messages.model import Form
from core.services import meetings
from core.services.deps import Deps
from slack_app import render
from slack_app.common import STALE_BUTTON, channel_of, notify, person_of, show_notice, slack_id

log = logging.getLogger("unmeet.slack.meetings")

COMMAND = "/meeting-check"
SHORTCUT = "meeting_check_from_message"


def _text(values: dict, key: str) -> str:
    value = values.get(key)
    return value if isinstance(value, str) else ""


def check_input(values: dict) -> CheckInput:
    return CheckInput(purpose=_text(values, "purpose"), agenda=_text(values, "agenda"), people=_text(values, "people"),
                      minutes=_text(values, "minutes"), frequency=_text(values, "frequency"),
                      decider_known=_text(values, "decider_known"), readable=_text(values, "readable"))


def register(app: AsyncApp, deps: Deps) -> None:
    async def open_form(body: dict, client, agenda: str) -> None:
        person, trigger = person_of(body), body.get("trigger_id")
        if person is None or not isinstance(trigger, str):
            return
        form = await meetings.check_form(deps, person=person, agenda=agenda, channel_id=channel_of(body) or "")
        await client.views_open(trigger_id=trigger, view=render.modal(form))

    @app.command(COMMAND)
    async def check_command(ack, body, client):
        await ack()
        await open_form(body, client, str(body.get("text") or ""))

    @app.shortcut(SHORTCUT)
    async def check_shortcut(ack, body, client):
        await ack()
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        await open_form(body, client, str(message.get("text") or ""))

    @app.view(CHECK_FORM)
    async def check_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        channel = slack_id(view.get("private_metadata")) or ""
        data = check_input(render.form_values(view))
        invalid = await meetings.check_errors(deps, person=person, data=data, channel_id=channel)
        if invalid is not None:
            await ack(**render.form_errors(invalid.form))
            return
        await ack(response_action="clear")
        result = await meetings.run_check(deps, person=person, data=data, channel_id=channel)
        if isinstance(result, meetings.Checked):
            await deps.messenger("slack").send_dm(person, result.message)

    @app.action(TO_ASYNC_ACTION)
    async def to_async_pressed(ack, body, client):
        await ack()
        person, channel, trigger = person_of(body), channel_of(body), body.get("trigger_id")
        value = (body.get("actions") or [{}])[0].get("value")
        if person is None or not isinstance(trigger, str):
            return
        if not isinstance(value, str):
            await notify(deps, client, body, STALE_BUTTON, channel)
            return
        result = await meetings.async_round_form(deps, person=person, value=value)
        if not isinstance(result, Form):
            await show_notice(client, person, channel, result)
            return
        opened = await client.views_open(trigger_id=trigger, view=render.modal(result))
        drafted = await meetings.drafted_round_form(deps, person=person, value=value)
        if drafted is not None:
            await client.views_update(view_id=opened["view"]["id"], view=render.modal(drafted))
