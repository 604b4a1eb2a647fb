"""LLM help on Slack: `/share-insight draft <bullets>`, the "Draft with AI" button in the share
modal, `/share-insight summary` and the "Summarise now" button (author only, ephemeral).

The model can take many seconds, longer than a `trigger_id` lives (3 s): the draft command opens the
modal at once with the plain draft, then updates it when the model's draft arrives.
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.refs import PersonRef
from core.domain.rounds import DEFAULT_QUESTIONS, TEXT_MAX, ShareInput
from core.messages.llm import DRAFT_ACTION, SUMMARISE_NOW_ACTION
from core.messages.model import Notice, row_id
from core.services import llm as service
from core.services import rounds as round_service
from core.services.deps import Deps
from slack_app import render
from slack_app.common import (STALE_BUTTON, button_value, channel_of, notify, person_of, show_notice,
                              translator_for)
from slack_app.rounds import SHARE_SUBCOMMANDS, share_input, split_metadata, with_channel

log = logging.getLogger("unmeet.slack.llm")


async def _draft_form(deps: Deps, person: PersonRef, data: ShareInput, channel: str | None):
    form = await round_service.share_form(deps, author=person, channel_id=data.channel_id or channel or "",
                                          prefill=data)
    return with_channel(form, channel)


async def _update(client: AsyncWebClient, view: dict, form_view: dict) -> None:
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=form_view)
    except SlackApiError as error:  # closed meanwhile, or edited (hash_conflict): leave it be
        log.info("draft not shown: %s", error.response.get("error"))


async def _show_draft(deps: Deps, client: AsyncWebClient, person: PersonRef, view: dict, bullets: str,
                      base: ShareInput, channel: str | None, *, in_form: bool = False) -> None:
    draft = await service.draft_insight(deps, author=person, bullets=bullets, base=base, in_form=in_form)
    if isinstance(draft, Notice):
        await show_notice(client, person, channel, draft)
        return
    await _update(client, view, render.modal(await _draft_form(deps, person, draft.data, channel)))
    if draft.notice is not None:
        await show_notice(client, person, channel, draft.notice)


async def draft_command(deps: Deps, client: AsyncWebClient, body: dict, bullets: str) -> None:
    """`/share-insight draft <bullets>`: the modal opens now with the bullets, the draft follows."""
    person, channel = person_of(body), channel_of(body)
    if person is None:
        return
    if not bullets:  # the service answers with a hint on how to use the command
        hint = await service.draft_insight(deps, author=person, bullets="")
        if isinstance(hint, Notice):
            await show_notice(client, person, channel, hint)
        return
    t = await translator_for(deps, person)
    plain = ShareInput(title="", text=bullets[:TEXT_MAX], questions=DEFAULT_QUESTIONS[t.language],
                       channel_id=channel or "")
    opened = await client.views_open(trigger_id=body["trigger_id"],
                                     view=render.modal(await _draft_form(deps, person, plain, channel)))
    await _show_draft(deps, client, person, opened["view"], bullets, plain, channel)


async def summary_command(deps: Deps, client: AsyncWebClient, body: dict, _rest: str) -> None:
    """`/share-insight summary`: the author's latest open round in this channel, summarised for them."""
    person, channel = person_of(body), channel_of(body)
    if person is not None:
        await _show_summary(deps, client, person, channel, None)


async def _show_summary(deps: Deps, client: AsyncWebClient, person: PersonRef, channel: str | None,
                        wanted: int | None) -> None:
    result = await service.summarise_now(deps, person=person, round_id=wanted, channel_id=channel)
    if isinstance(result, Notice):
        await show_notice(client, person, channel, result)
        return
    try:
        if channel:
            await client.chat_postEphemeral(channel=channel, user=person.id, **render.message(result))
            return
    except SlackApiError as error:
        log.info("ephemeral summary in %s failed (%s); using the DM", channel, error.response.get("error"))
    dm = (await client.conversations_open(users=person.id))["channel"]["id"]
    await client.chat_postEphemeral(channel=dm, user=person.id, **render.message(result))


def register(app: AsyncApp, deps: Deps) -> None:
    SHARE_SUBCOMMANDS["draft"] = draft_command
    SHARE_SUBCOMMANDS["concept"] = draft_command  # Dutch
    for word in ("summary", "summarise", "summarize", "samenvatting"):
        SHARE_SUBCOMMANDS[word] = summary_command

    @app.action(DRAFT_ACTION)
    async def draft_pressed(ack, body, client):
        """In the share modal: draft from what the lead typed in Text (and Title)."""
        await ack()
        person, view = person_of(body), body.get("view")
        if person is None or not isinstance(view, dict) or "id" not in view:
            return
        _metadata, channel = split_metadata(view)
        base = share_input(render.form_values(view))
        bullets = "\n".join(part for part in (base.title, base.text) if part.strip())
        await _show_draft(deps, client, person, view, bullets, base, channel, in_form=True)

    @app.action(SUMMARISE_NOW_ACTION)
    async def summarise_pressed(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        value = button_value(body)
        wanted = row_id(value)
        if person is None:
            return
        if wanted is None:
            await notify(deps, client, body, STALE_BUTTON, channel)
            return
        await _show_summary(deps, client, person, channel, wanted)
