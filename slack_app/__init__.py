"""The Slack adapter: the bots that speak for each workspace (one SLACK_BOT_TOKEN, or "Add to Slack"
installs into many workspaces), one Bolt AsyncApp, the Messenger, and the HTTP routes (or Socket
Mode) that feed Slack's requests to Bolt.

Features plug in through `FEATURES`: each is `register(app: AsyncApp, deps: Deps)` adding Bolt
listeners. The fallbacks for anything unclaimed are registered after them.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from core import metrics
from core.services.deps import Deps
from slack_app import (agreements, digest, drivers_seat, focus, installs, llm, meetings, one_thing, programmes, rounds,
                       stuck)
from slack_app.acks import answer_at_ack
from slack_app.bots import SlackBots
from slack_app.common import register_fallbacks, register_platform_events
from slack_app.messenger import SlackMessenger

log = logging.getLogger("unmeet.slack")

FEATURES = [rounds.register, digest.register, focus.register, meetings.register, llm.register, one_thing.register,
            agreements.register, stuck.register, drivers_seat.register, programmes.register]

EVENTS_PATH = "/slack/events"


def slack_shaped(body) -> bool:
    """Bolt trusts the shape of what Slack sends (`body["event"]["type"]`, `body["view"]["callback_id"]`…);
    a body that breaks that shape is refused here instead of failing inside Bolt with a 500."""
    if not isinstance(body, dict):
        return False
    objects = {"event": ("type",), "view": ("callback_id",), "container": (), "message": ()}
    for key, strings in objects.items():
        if key in body and not (isinstance(body[key], dict) and all(isinstance(body[key].get(s, ""), str)
                                                                    for s in strings)):
            return False
    if body.get("type") in ("view_submission", "view_closed") and not all(
            isinstance(body.get("view", {}).get(s), str) for s in ("type", "callback_id")):
        return False
    for key in ("team", "user", "channel", "enterprise"):
        if body.get(key) is not None and not isinstance(body[key], (dict, str)):
            return False
    for key in ("actions", "authorizations"):
        if key in body and not (isinstance(body[key], list) and body[key]
                                and all(isinstance(item, dict) for item in body[key])):
            return False
    strings = ("type", "callback_id", "command", "event_id", "team_id", "user_id", "channel_id", "trigger_id")
    if any(not isinstance(body.get(key, ""), str) for key in strings):
        return False
    return all(isinstance(a.get(k, ""), str) for a in body.get("actions", ()) for k in ("action_id", "block_id"))


class SlackAdapter:
    def __init__(self, deps: Deps):
        settings = deps.settings
        self.settings = settings
        self.bots = SlackBots(deps)
        verify = bool(settings.slack_signing_secret)
        if not verify and not settings.socket_mode:
            if not settings.unmeet_dev_mode:
                raise ValueError("SLACK_SIGNING_SECRET is empty: Slack requests can't be verified")
            log.warning("!!! UNMEET_DEV_MODE: Slack request signatures are NOT checked. Anyone who can reach "
                        "%s can act as any Slack user. Never run like this in production. !!!", EVENTS_PATH)
        self.bolt = AsyncApp(client=self.bots.client, signing_secret=settings.slack_signing_secret,
                             request_verification_enabled=verify, process_before_response=False,
                             logger=logging.getLogger("unmeet.slack.bolt"),
                             **(installs.bolt_options(deps, self.bots) if self.bots.installs else {}))
        answer_at_ack(self.bolt)
        self.deps = deps
        self.messenger = SlackMessenger(self.bots)
        deps.closers.append(self.bots.close)
        if self.bots.installs:
            installs.use_workspace_clients(self.bolt, self.bots)
        register_platform_events(self.bolt, deps, self.bots)
        for register in FEATURES:
            register(self.bolt, deps)
        register_fallbacks(self.bolt, deps)

    def add_routes(self, app: web.Application) -> None:
        """HTTP: `POST /slack/events` for commands, interactivity and events. Socket Mode (when
        SLACK_APP_TOKEN is set): a background connection to Slack instead, no public URL needed. The
        OAuth routes (focus "Connect", and "Add to Slack" installs) are served in both modes."""
        if self.settings.socket_mode:
            app.cleanup_ctx.append(self._socket_mode)
            log.info("Slack: Socket Mode (SLACK_APP_TOKEN is set); %s is not served", EVENTS_PATH)
        else:
            app.router.add_post(EVENTS_PATH, self.handle)
        installs.add_routes(app, self.deps, self.bolt)
        app.on_startup.append(self._open)

    async def _open(self, _app: web.Application) -> None:
        self.bots.open()

    async def handle(self, request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except Exception:  # noqa: BLE001 - a body Bolt can't parse is a bad request, not our failure
            bolt_request = None
        if bolt_request is None or not slack_shaped(bolt_request.body):
            metrics.request_kind.set("unreadable")
            log.info("unreadable request to %s refused", EVENTS_PATH)
            return web.Response(status=400, text="unreadable request")
        body = bolt_request.body
        metrics.request_kind.set("command" if "command" in body else body.get("type"))
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    async def _socket_mode(self, _app: web.Application):
        """Connected while the server runs (aiohttp's cleanup context: set up at start, closed at stop)."""
        from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

        handler = AsyncSocketModeHandler(self.bolt, self.settings.slack_app_token)
        await handler.connect_async()
        yield
        await handler.close_async()
