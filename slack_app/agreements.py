"""Team agreements on Slack: `/agreements` (show, `edit`, `prepare`), the edit modal, and the action
owner's "Done / Not yet / Drop" buttons. Each listener translates, calls one service, renders."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from core.domain.agreements import form_input
from core.messages import agreements as views
from core.messages.model import Form
from core.services import agreements
from core.services.deps import Deps
from slack_app import render
from slack_app.common import button_value, channel_of, person_of, show_notice, slack_id

COMMAND = "/agreements"


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def agreements_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        result = await agreements.agreements_command(deps, person=person, channel_id=channel,
                                                     text=str(body.get("text") or ""))
        if isinstance(result, Form):
            trigger = body.get("trigger_id")
            if isinstance(trigger, str):
                await client.views_open(trigger_id=trigger, view=render.modal(result))
            return
        await show_notice(client, person, channel, result)

    @app.view(views.EDIT_FORM)
    async def edit_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        metadata = str(view.get("private_metadata") or "")
        result = await agreements.submit_agreement(deps, person=person, metadata=metadata,
                                                   data=form_input(render.form_values(view)))
        if isinstance(result, agreements.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        channel = slack_id(agreements.parse_metadata(metadata)[3])
        await show_notice(client, person, channel, result.message)

    @app.action(views.ACTION_STATE)
    async def action_state(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            result = await agreements.set_action_state(deps, person=person, value=button_value(body))
            await show_notice(client, person, channel_of(body), result)
