"""The Driver's Seat on Slack: `/drivers-seat [start [days]|stop|share @coach|unshare]`, the morning and
evening DMs' buttons with their modals, the coach's "Give feedback" modal with "Draft feedback", and the
Home's "Start a week". Each listener translates, calls one service in `core.services.drivers_seat` and
renders the result."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from core.domain.drivers_seat import Share, parse_command, slack_mention
from core.domain.refs import PersonRef
from core.messages import drivers_seat as views
from core.services import drivers_seat as seat
from core.services.deps import Deps
from slack_app import render
from slack_app.common import button_value, channel_of, person_of, show_notice, slack_id
from slack_app.one_thing import reply

log = logging.getLogger("unmeet.slack.drivers_seat")

COMMAND = "/drivers-seat"


def _metadata(body: dict) -> tuple[str, str | None]:
    """What the form carries (`slack_app.focus.reply` adds the conversation it was opened from)."""
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    value, _, channel = str(view.get("private_metadata") or "").partition("|")
    return value, slack_id(channel)


def _text(values: dict, key: str) -> str:
    value = values.get(key)
    return value if isinstance(value, str) else ""


def _choice(values: dict, key: str) -> str | None:
    return values.get(key) if isinstance(values.get(key), str) else None


def _coach(person: PersonRef, text: str) -> PersonRef | None:
    """The person a `share <@U…>` names (the command escapes mentions)."""
    command = parse_command(text)
    user = slack_mention(command.who) if isinstance(command, Share) else None
    return PersonRef(person.workspace, user) if user else None


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def drivers_seat_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        text = str(body.get("text") or "")
        result = await seat.command(deps, person=person, text=text, coach=_coach(person, text))
        await reply(client, body, person, channel, result)

    @app.action(views.START_ACTION)
    async def start_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            await reply(client, body, person, channel_of(body), await seat.start(deps, person=person))

    def on_button(action_id: str, service) -> None:
        """A button whose value names the run (or its day): the service's answer, a modal or a message."""
        @app.action(action_id)
        async def pressed(ack, body, client):
            await ack()
            if (person := person_of(body)) is not None:
                result = await service(deps, person=person, value=button_value(body))
                await reply(client, body, person, channel_of(body), result)

    for action_id, service in ((views.PLAN_ACTION, seat.plan_form), (views.SKIP_ACTION, seat.skip),
                               (views.RATE_ACTION, seat.rate_form), (views.FEEDBACK_ACTION, seat.feedback_form)):
        on_button(action_id, service)

    @app.action(views.DRAFT_ACTION)
    async def draft_pressed(ack, body, client):
        """In the coach's modal: the modal again, with the draft in the field."""
        await ack()
        person, view = person_of(body), body.get("view")
        if person is None or not isinstance(view, dict) or "id" not in view:
            return
        value, channel = _metadata(body)
        typed = _text(render.form_values(view), "feedback")
        form = await seat.draft_feedback(deps, person=person, value=value, typed=typed)
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                      view=render.modal(replace(form, metadata=f"{form.metadata}|{channel or ''}")))
        except SlackApiError as error:  # closed meanwhile, or edited: leave it be
            log.info("feedback draft not shown: %s", error.response.get("error"))

    @app.view(views.TASKS_FORM)
    async def tasks_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        value, channel = _metadata(body)
        values = render.form_values(body.get("view"))
        result = await seat.save_tasks(deps, person=person, value=value,
                                       kinds=tuple(_choice(values, f"kind{n}") for n in (1, 2, 3)),
                                       texts=tuple(_text(values, f"task{n}") for n in (1, 2, 3)))
        await _answer(ack, client, person, channel, result)

    @app.view(views.RATINGS_FORM)
    async def ratings_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        value, channel = _metadata(body)
        values = render.form_values(body.get("view"))
        result = await seat.save_ratings(deps, person=person, value=value,
                                         ratings=tuple(_choice(values, f"rating{n}") for n in (1, 2, 3)),
                                         whys=tuple(_text(values, f"why{n}") for n in (1, 2, 3)))
        await _answer(ack, client, person, channel, result)

    @app.view(views.FEEDBACK_FORM)
    async def feedback_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        value, channel = _metadata(body)
        values = render.form_values(body.get("view"))
        result = await seat.send_feedback(deps, person=person, value=value, text=_text(values, "feedback"))
        await _answer(ack, client, person, channel, result)


async def _answer(ack, client, person: PersonRef, channel: str | None, result) -> None:
    if isinstance(result, seat.Invalid):
        await ack(**render.form_errors(result.form))
        return
    await ack(response_action="clear")
    await show_notice(client, person, channel, result.message)
