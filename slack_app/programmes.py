"""Programme mode on Slack: `/programme [status|new|copy|export|remove @name]`, the coach's setup modal and the
"Programme status" button. Each listener translates, calls one service in `core.services.programmes`
and renders the result. The export's CSV goes to the coach's DM as a file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from slack_bolt.async_app import AsyncApp

from core.domain.drivers_seat import slack_mention
from core.domain.programmes import MAX_ASSIGNMENTS, Setup
from core.domain.refs import PersonRef
from core.messages import programmes as views
from core.messages.model import Message, submitted_text
from core.services import programmes
from core.services.deps import Deps
from slack_app import render
from slack_app.common import channel_of, person_of, show_notice, slack_id
from slack_app.one_thing import reply

COMMAND = "/programme"


def _date(values: dict, key: str) -> date | None:
    value = values.get(key)
    return value if isinstance(value, date) else None


def _named(person: PersonRef, text: str) -> PersonRef | None:
    """The person a `remove <@U…>` names (the command escapes mentions)."""
    words = text.split()
    user = slack_mention(words[1]) if len(words) == 2 else None
    return PersonRef(person.workspace, user) if user else None


def setup_of(values: dict) -> Setup:
    return Setup(name=submitted_text(values, "name"), channel_id=submitted_text(values, "channel"),
                 dates=tuple(_date(values, f"session{n}") for n in range(1, 4)),
                 titles=tuple(submitted_text(values, f"assignment{i}") for i in range(MAX_ASSIGNMENTS)
                              if f"assignment{i}" in values))


def register(app: AsyncApp, deps: Deps) -> None:
    async def answer(client, body, person, channel, result) -> None:
        if isinstance(result, Message) and result.attachments:  # the export: a file in the coach's DM
            await deps.messenger("slack").send_dm(person, result)
            result = replace(result, attachments=())
        await reply(client, body, person, channel, result)

    @app.command(COMMAND)
    async def programme_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        text = str(body.get("text") or "")
        result = await programmes.programme_command(deps, person=person, text=text, channel_id=channel,
                                                    who=_named(person, text))
        await answer(client, body, person, channel, result)

    @app.action(views.STATUS_ACTION)
    async def status_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            await answer(client, body, person, channel_of(body), await programmes.status(deps, person=person))

    @app.view(views.SETUP_FORM)
    async def setup_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        view = body.get("view") if isinstance(body.get("view"), dict) else {}
        metadata, _, channel = str(view.get("private_metadata") or "").partition("|")
        result = await programmes.submit_setup(deps, person=person, setup=setup_of(render.form_values(view)),
                                               metadata=metadata)
        if isinstance(result, programmes.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        await show_notice(client, person, slack_id(channel), result.message)
