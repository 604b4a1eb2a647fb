"""The One Thing on Slack: `/one-thing …`, the Home's "Record my One Thing" button and its modal, and the
"Still doing it?" buttons with their modal. Each listener translates, calls one service in
`core.services.one_thing` and renders the result."""

from __future__ import annotations

from dataclasses import replace

from slack_bolt.async_app import AsyncApp

from core.messages import one_thing as views
from core.messages.model import Context, Form, Message, rich, row_id
from core.services import one_thing
from core.services.deps import Deps
from slack_app import render
from slack_app.common import button_value, channel_of, person_of, show_notice, slack_id
from slack_app.focus import reply as focus_reply

COMMAND = "/one-thing"


async def reply(client, body: dict, person, channel: str | None, result: Message | Form) -> None:
    """A reply, or the modal. A modal can't show an input's error until it is submitted, so one that
    opens with errors (a too-long `/one-thing …`) says them above the inputs, over the kept text."""
    if isinstance(result, Form) and result.errors:
        result = replace(result, intro=result.intro + tuple(Context(rich("⚠️ " + e)) for e in result.errors.values()))
    await focus_reply(client, body, person, channel, result)


def _metadata(body: dict) -> tuple[str, str | None]:
    """What the form carries (`slack_app.focus.reply` adds the conversation it was opened from)."""
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    value, _, channel = str(view.get("private_metadata") or "").partition("|")
    return value, slack_id(channel)


def _text(values: dict, key: str) -> str:
    value = values.get(key)
    return value if isinstance(value, str) else ""


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def one_thing_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        result = await one_thing.one_thing_command(deps, person=person, text=str(body.get("text") or ""))
        await reply(client, body, person, channel, result)

    @app.action(views.RECORD_ACTION)
    async def record_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            await reply(client, body, person, channel_of(body), await one_thing.open_form(deps, person=person))

    @app.action(views.CHECK_ACTION)
    async def check_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            result = await one_thing.check_form(deps, person=person, value=button_value(body))
            await reply(client, body, person, channel_of(body), result)

    @app.view(views.FORM)
    async def form_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        _, channel = _metadata(body)
        values = render.form_values(body.get("view"))
        result = await one_thing.submit_form(deps, person=person, text=_text(values, "text"),
                                             share=_text(values, "share"))
        if isinstance(result, one_thing.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        await show_notice(client, person, channel, result.message)

    @app.view(views.CHECK_FORM)
    async def check_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        value, channel = _metadata(body)
        values = render.form_values(body.get("view"))
        result = await one_thing.answer_check(deps, person=person, one_thing_id=row_id(value),
                                              answer=values.get("answer") if isinstance(values.get("answer"), str)
                                              else None, note=_text(values, "note"))
        if isinstance(result, one_thing.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        await show_notice(client, person, channel, result.message)
