"""The stuck log on Slack: `/stuck` (status, `start [days]`, or what you were waiting for), the message
shortcut "I was stuck here" (the form prefilled from the message), the end-of-day question's buttons,
the form, and the report's "Adopt as rules". Each listener translates, calls one service in
`core.services.stuck` and renders the result."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from core.domain.stuck import EntryInput
from core.messages import stuck as views
from core.services import stuck
from core.services.deps import Deps
from slack_app import render
from slack_app.common import button_value, channel_of, person_of, show_notice, slack_id
from slack_app.one_thing import reply

COMMAND = "/stuck"
SHORTCUT = "stuck_from_message"


def entry_input(values: dict) -> EntryInput:
    def text(key: str) -> str:
        value = values.get(key)
        return value if isinstance(value, str) else ""

    return EntryInput(what=text("what"), kind=text("kind") or None, other=text("other"), knew=text("knew") or None,
                      waited=text("waited") or None, note=text("note"))


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def stuck_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        result = await stuck.stuck_command(deps, person=person, channel_id=channel, text=str(body.get("text") or ""))
        await reply(client, body, person, channel, result)

    @app.shortcut(SHORTCUT)
    async def stuck_shortcut(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        result = await stuck.entry_form(deps, person=person, channel_id=channel, what=str(message.get("text") or ""))
        await reply(client, body, person, channel, result)

    @app.action(views.RECORD_ACTION)
    async def record_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            result = await stuck.entry_form(deps, person=person, log_value=button_value(body))
            await reply(client, body, person, channel_of(body), result)

    @app.action(views.NOT_STUCK_ACTION)
    async def not_stuck_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            await show_notice(client, person, channel_of(body), await stuck.not_stuck(deps, person=person))

    @app.action(views.ADOPT_ACTION)
    async def adopt_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            result = await stuck.adopt(deps, person=person, value=button_value(body))
            await show_notice(client, person, channel_of(body), result)

    @app.view(views.FORM)
    async def form_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        metadata, _, channel = str(view.get("private_metadata") or "").partition("|")
        result = await stuck.submit_entry(deps, person=person, metadata=metadata,
                                          data=entry_input(render.form_values(view)))
        if isinstance(result, stuck.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        await show_notice(client, person, slack_id(channel), result.message)
