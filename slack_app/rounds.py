"""Reflection rounds on Slack: `/share-insight`, its modal, the Answer button and the answer modal.

Each listener translates the payload, calls one service in `core.services.rounds` and renders what
comes back. Commands and buttons are acknowledged first; a view submission is acknowledged with the
service's outcome (errors, the next view, or closing the modal). Answers are stored before the
modal closes: a process killed after an acknowledgement must not lose what the person typed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.refs import PersonRef
from core.domain.rounds import ShareInput
from core.domain.text import N_
from core.messages.i18n import Translator, translator
from core.messages.model import Form, Notice, row_id, submitted_text
from core.messages.rounds import ANSWER_ACTION, ANSWER_FORM, CONFIRM_FORM, SHARE_FORM
from core.services import rounds
from core.services.deps import Deps
from slack_app import render
from slack_app.common import (STALE_BUTTON, TRY_AGAIN, button_value, channel_of, notify, person_of, show_notice,
                              slack_id, translator_for)

log = logging.getLogger("unmeet.slack.rounds")

COMMAND = "/share-insight"

E_BOT_NOT_IN_CHANNEL = N_("unmeet isn't in that channel yet. Add it there first (type /invite @unmeet in the "
                          "channel), or pick another channel.")

# `/share-insight <word> …`: other modules add handlers for their own first word (e.g. "draft").
# A handler gets the deps, the Web API client, the command payload and the rest of the text.
Subcommand = Callable[[Deps, AsyncWebClient, dict, str], Awaitable[None]]
SHARE_SUBCOMMANDS: dict[str, Subcommand] = {}


def with_channel(form: Form, channel: str | None) -> Form:
    """Carry the conversation the person acted in through the modal, to show the outcome there."""
    return replace(form, metadata=f"{form.metadata}|{channel or ''}")


def split_metadata(view: dict) -> tuple[str, str | None]:
    metadata = view.get("private_metadata") if isinstance(view, dict) else None
    metadata = metadata if isinstance(metadata, str) else ""
    value, _, channel = metadata.rpartition("|") if "|" in metadata else (metadata, "", "")
    return value, slack_id(channel)


def share_input(values: dict) -> ShareInput:
    deadline = values.get("deadline")
    return ShareInput(title=submitted_text(values, "title"), link=submitted_text(values, "link"), text=submitted_text(values, "text"),
                      questions=(submitted_text(values, "q1"), submitted_text(values, "q2"), submitted_text(values, "q3")),
                      deadline=deadline if isinstance(deadline, date) else None,
                      share_mode=submitted_text(values, "share_mode"), channel_id=slack_id(values.get("channel")) or "")


async def channel_problem(client: AsyncWebClient, channel: str, t: Translator) -> str | None:
    """The app can only post where it is a member (it has no chat:write.public): say so in the form,
    before anything is stored."""
    if not channel:
        return None
    try:
        info = await client.conversations_info(channel=channel)
    except SlackApiError as error:
        if error.response.get("error") in ("channel_not_found", "not_in_channel"):
            return t.gettext(E_BOT_NOT_IN_CHANNEL)
        raise
    if not info["channel"].get("is_member", True) and not info["channel"].get("is_im"):
        return t.gettext(E_BOT_NOT_IN_CHANNEL)
    return None


def with_note(view: dict, text: str) -> dict:
    """The submitted modal as it was, with `text` at its end (once)."""
    kept = {k: view[k] for k in ("type", "callback_id", "private_metadata", "title", "submit", "close") if k in view}
    blocks = [b for b in view.get("blocks", ()) if b.get("block_id") != "note"]
    return {**kept, "blocks": [*blocks, {"type": "context", "block_id": "note",
                                         "elements": [{"type": "mrkdwn", "text": text}]}]}


async def _ack_failure(ack, deps: Deps, person: PersonRef | None, field: str | None) -> None:
    """The service failed (Slack or the database away): keep the modal and its values, say so."""
    log.exception("a view submission failed")
    try:
        t = await translator_for(deps, person)
    except Exception:  # noqa: BLE001 - the database may be what failed
        t = translator(None, None, deps.settings.unmeet_default_locale)
    if field:
        await ack(response_action="errors", errors={field: t.gettext(TRY_AGAIN)})
    else:
        await ack(response_action="clear")


def register(app: AsyncApp, deps: Deps) -> None:
    @app.command(COMMAND)
    async def share_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        trigger = body.get("trigger_id")
        if person is None or not isinstance(trigger, str):
            return
        word, _, rest = str(body.get("text") or "").strip().partition(" ")
        subcommand = SHARE_SUBCOMMANDS.get(word.lower())
        if subcommand is not None:
            await subcommand(deps, client, body, rest.strip())
            return
        form = await rounds.share_form(deps, author=person, channel_id=channel or "")
        await client.views_open(trigger_id=trigger, view=render.modal(form))

    @app.view(SHARE_FORM)
    async def share_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        data = share_input(render.form_values(body.get("view")))
        try:
            t = await translator_for(deps, person)
            problem = await channel_problem(client, data.channel_id, t)
            if problem:
                await ack(response_action="errors", errors={"channel": problem})
                return
            result = await rounds.share_insight(deps, author=person, data=data)
        except Exception:  # noqa: BLE001 - the person keeps their text and gets a sentence
            await _ack_failure(ack, deps, person, "title")
            return
        if isinstance(result, rounds.Invalid):
            await ack(**render.form_errors(result.form))
        elif isinstance(result, rounds.Confirm):
            await ack(response_action="update", view=render.modal(with_channel(result.form, data.channel_id)))
        else:
            await ack(response_action="clear")
            if result.notice is not None:
                await show_notice(client, person, data.channel_id, result.notice)

    @app.view(CONFIRM_FORM)
    async def confirm_submitted(ack, body, client):
        person = person_of(body)
        metadata, channel = split_metadata(body.get("view"))
        wanted = row_id(metadata)
        if person is None or wanted is None:
            await ack(response_action="clear")
            if person is not None:
                await notify(deps, client, body, STALE_BUTTON, channel)
            return
        try:  # confirmed before the modal closes: a process stopped in between can't lose the round
            result = await rounds.confirm_share(deps, author=person, round_id=wanted)
        except Exception:  # noqa: BLE001 - the modal stays, so the author can press Send again
            log.exception("a round could not be confirmed")
            t = translator(None, None, deps.settings.unmeet_default_locale)
            with contextlib.suppress(Exception):  # the database may be what failed
                t = await translator_for(deps, person)
            await ack(response_action="update", view=with_note(body["view"], t.gettext(TRY_AGAIN)))
            return
        await ack(response_action="clear")
        if result.notice is not None:
            await show_notice(client, person, channel, result.notice)

    @app.action(ANSWER_ACTION)
    async def answer_pressed(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        value = button_value(body)
        wanted = row_id(value)
        if person is None:
            return
        if wanted is None:
            log.info("Answer pressed with an unknown round %r", str(value)[:40])
            await notify(deps, client, body, STALE_BUTTON, channel)
            return
        result = await rounds.answer_form(deps, person=person, round_id=wanted)
        if isinstance(result, Notice):
            await show_notice(client, person, channel, result)
            return
        trigger = body.get("trigger_id")
        if isinstance(trigger, str):
            await client.views_open(trigger_id=trigger, view=render.modal(with_channel(result, channel)))

    @app.view(ANSWER_FORM)
    async def answer_submitted(ack, body, client):
        person = person_of(body)
        view = body.get("view")
        metadata, channel = split_metadata(view)
        wanted = row_id(metadata)
        if person is None or wanted is None:
            await ack(response_action="clear")
            if person is not None:
                await notify(deps, client, body, STALE_BUTTON, channel)
            return
        values = render.form_values(view)
        texts = tuple(submitted_text(values, f"a{i}") for i in (1, 2, 3))
        try:  # committed before the modal closes; stored, threaded and thanked for by a job after
            result = await rounds.submit_answer(deps, person=person, round_id=wanted, texts=texts, channel=channel)
        except Exception:  # noqa: BLE001 - the person keeps their answers and gets a sentence
            await _ack_failure(ack, deps, person, "a1")
            return
        if isinstance(result, rounds.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        if result is not None and result.notice is not None:
            await show_notice(client, person, channel, result.notice)

