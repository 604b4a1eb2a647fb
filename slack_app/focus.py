"""Focus time on Slack: `/focus`, its buttons and forms, the "Connect" OAuth flow for the person's own
token (its callback shares /slack/oauth_redirect with installs: slack_app/installs.py), and the
StatusSetter that sets status and do-not-disturb with that token.

Each listener translates the payload, calls one service in `core.services.focus` and renders the
result. The user token is decrypted only in core's jobs and handed to `SlackStatusSetter` per call;
it is never logged. With token rotation on in the Slack app it expires: core renews it when due with
`SlackStatusSetter.refresh`, and once more when Slack answers `token_expired` (TokenExpired).
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from core.config import Settings
from core.domain.focus import PLAN_ROWS, PlanRow
from core.domain.refs import PersonRef
from core.messages import focus as views
from core.messages.model import Form, Message, row_id, submitted_text
from core.ports import RetryLater
from core.services import focus
from core.services.deps import Deps
from core.services.tokens import Grant
from slack_app import render, rotation
from slack_app.pacing import CallCounter
from slack_app.common import STALE_BUTTON, button_value, channel_of, notify, person_of, show_notice, slack_id

log = logging.getLogger("unmeet.slack.focus")

COMMAND = "/focus"
AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
USER_SCOPES = "users.profile:write,dnd:write"
# What Slack answers when the person's token no longer works (revoked, uninstalled, deactivated).
# `token_expired` (token rotation) is told apart: core renews the token and tries once more.
TOKEN_GONE = {"invalid_auth", "token_revoked", "account_inactive", "not_authed", "missing_scope"}


class SlackStatusSetter:
    """`users.profile.set` (status text, emoji, expiry) and `dnd.setSnooze` with the person's token."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def authorize_url(self, state: str) -> str:
        return AUTHORIZE_URL + "?" + urlencode({"client_id": self.settings.slack_client_id,
                                                "user_scope": USER_SCOPES, "state": state})

    def _client(self, token: str) -> AsyncWebClient:
        return AsyncWebClient(token=token, base_url=self.settings.slack_api_url,
                              retry_handlers=[CallCounter(), AsyncRateLimitErrorRetryHandler(max_retry_count=2)])

    async def refresh(self, refresh_token: str) -> Grant:
        return await rotation.refresh(self.settings, refresh_token)

    @staticmethod
    def _raise(error: SlackApiError) -> None:
        code = error.response.get("error")
        if code == rotation.EXPIRED:
            raise focus.TokenExpired(code) from None
        if code in TOKEN_GONE:
            raise focus.TokenRevoked(code) from None
        if error.response.status_code == 429 or code == "ratelimited":
            raise RetryLater("rate limited", seconds=float(error.response.headers.get("Retry-After", 30))) from None
        raise error

    async def set_focus(self, token: str, *, text: str, emoji: str, until: datetime, minutes: int) -> None:
        client = self._client(token)
        try:
            await client.users_profile_set(profile={"status_text": text[:100], "status_emoji": emoji,
                                                    "status_expiration": int(until.timestamp())})
            await client.dnd_setSnooze(num_minutes=minutes)
        except SlackApiError as error:
            self._raise(error)

    async def clear_focus(self, token: str) -> None:
        client = self._client(token)
        try:
            await client.users_profile_set(profile={"status_text": "", "status_emoji": "", "status_expiration": 0})
            await client.dnd_endSnooze()
        except SlackApiError as error:
            if error.response.get("error") != "snooze_not_active":  # the person ended it already
                self._raise(error)


async def reply(client: AsyncWebClient, body: dict, person: PersonRef, channel: str | None,
                result: Message | Form) -> None:
    if isinstance(result, Form):
        trigger = body.get("trigger_id")
        if isinstance(trigger, str):
            await client.views_open(trigger_id=trigger, view=render.modal(_with_metadata(result, channel)))
        return
    await show_notice(client, person, channel, result)


def _with_metadata(form: Form, channel: str | None) -> Form:
    """Carry the conversation the person acted in through the modal, to answer there."""
    return replace(form, metadata=f"{form.metadata}|{channel or ''}")


def _metadata(body: dict) -> tuple[str, str | None]:
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    value, _, channel = str(view.get("private_metadata") or "").partition("|")
    return value, slack_id(channel)


def html_page(body: str) -> str:
    """A bare browser page (after an OAuth callback) around `body`, HTML the caller has escaped."""
    return f"<!doctype html><meta charset=utf-8><title>unmeet</title>{body}"


async def _page(deps: Deps, person: PersonRef | None, ok: bool, sentence: str | None = None) -> web.Response:
    """The browser page after the OAuth callback."""
    sentence = sentence or await focus.connect_failed_text(deps, person)
    return web.Response(status=200 if ok else 400, text=html_page(f"<p>{html.escape(sentence)}</p>"),
                        content_type="text/html")


async def connect_callback(deps: Deps, request: web.Request) -> web.Response:
    """Slack sends the person back to /slack/oauth_redirect after they allowed (or not) the app to set
    their status. The `state` must be one we issued, unused and unexpired, or nothing happens; the code
    is exchanged with `oauth.v2.access` and the token stored encrypted."""
    person = await focus.claim_connect_state(deps, request.query.get("state", ""))
    code = request.query.get("code", "")
    if person is None or not code:
        log.info("focus connect refused: %s", "unknown state" if person is None else "no code")
        return await _page(deps, person, False)
    settings = deps.settings
    try:
        answer = await AsyncWebClient(base_url=settings.slack_api_url).oauth_v2_access(
            client_id=settings.slack_client_id, client_secret=settings.slack_client_secret, code=code)
    except SlackApiError as error:
        log.warning("oauth.v2.access failed: %s", error.response.get("error"))
        return await _page(deps, person, False)
    authed = answer.get("authed_user") or {}
    token = authed.get("access_token")
    if (authed.get("id") != person.id or (answer.get("team") or {}).get("id") != person.workspace.id
            or not isinstance(token, str) or not token):
        log.warning("focus connect refused: the authorising user or workspace doesn't match the state")
        return await _page(deps, person, False)
    refresh_token, expires_in = authed.get("refresh_token"), authed.get("expires_in")  # with token rotation
    sentence = await focus.save_user_token(
        deps, person=person, token=token, scopes=str(authed.get("scope", "")),
        refresh_token=refresh_token if isinstance(refresh_token, str) and refresh_token else None,
        expires_in=float(expires_in) if isinstance(expires_in, (int, float)) and refresh_token else None)
    log.info("focus connect: stored a user token for %s", person.id)
    return await _page(deps, person, True, sentence)


def register(app: AsyncApp, deps: Deps) -> None:
    deps.status_setters["slack"] = SlackStatusSetter(deps.settings)

    @app.command(COMMAND)
    async def focus_command(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        if person is None:
            return
        result = await focus.focus_command(deps, person=person, text=str(body.get("text") or ""))
        await reply(client, body, person, channel, result)

    @app.action(views.STOP_ACTION)
    async def stop_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            await show_notice(client, person, channel_of(body), await focus.stop_focus(deps, person=person))

    @app.action(views.PLAN_ACTION)
    async def plan_pressed(ack, body, client):
        await ack()
        if (person := person_of(body)) is not None:
            await reply(client, body, person, channel_of(body), await focus.plan_form(deps, person=person))

    @app.action(views.CONNECT_ACTION)
    async def connect_pressed(ack):
        await ack()  # a link button: the browser opens Slack's authorisation page

    @app.action(views.TELL_ACTION)
    async def tell_pressed(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        session_id = row_id(button_value(body))
        if person is None:
            return
        if session_id is None:
            await notify(deps, client, body, STALE_BUTTON, channel)
            return
        result = await focus.tell_team_form(deps, person=person, session_id=session_id)
        await reply(client, body, person, channel, result)

    @app.action(views.START_BLOCK_ACTION)
    async def start_block_pressed(ack, body, client):
        await ack()
        person, channel = person_of(body), channel_of(body)
        block_id = row_id(button_value(body))
        if person is None:
            return
        if block_id is None:
            await notify(deps, client, body, STALE_BUTTON, channel)
            return
        await show_notice(client, person, channel, await focus.start_block(deps, person=person, block_id=block_id))

    @app.view(views.PLAN_FORM)
    async def plan_submitted(ack, body, client):
        person = person_of(body)
        if person is None:
            await ack(response_action="clear")
            return
        _, channel = _metadata(body)
        values = render.form_values(body.get("view"))
        rows = tuple(PlanRow(submitted_text(values, f"day{i}"), submitted_text(values, f"start{i}"), submitted_text(values, f"length{i}"))
                     for i in range(PLAN_ROWS))
        result = await focus.save_plan(deps, person=person, rows=rows)
        if isinstance(result, focus.Invalid):
            await ack(**render.form_errors(result.form))
            return
        await ack(response_action="clear")
        await show_notice(client, person, channel, result.message)

    @app.view(views.TELL_FORM)
    async def tell_submitted(ack, body, client):
        person = person_of(body)
        value, channel = _metadata(body)
        session_id = row_id(value)
        target = slack_id(render.form_values(body.get("view")).get("channel"))
        await ack(response_action="clear")
        if person is None:
            return
        if session_id is None or target is None:
            await notify(deps, client, body, STALE_BUTTON, channel)
            return
        result = await focus.tell_team(deps, person=person, session_id=session_id, channel_id=target)
        await show_notice(client, person, channel or target, result)
