"""Microsoft Teams: `POST /api/messages` on unmeet's aiohttp server, through botbuilder's CloudAdapter.

    teams = TeamsAdapter(deps)          # reads MICROSOFT_APP_* from deps.settings
    deps.messengers["teams"] = teams.messenger
    teams.add_routes(app)

With `MICROSOFT_APP_ID` set, botbuilder checks every request's token (issuer, audience, expiry,
signing key and its endorsement for the channel, serviceUrl) and answers 401 otherwise. Without it
the bot is anonymous — local mode, what the Microsoft 365 Agents Playground expects;
`unmeet.server.add_platforms` only allows that on a loopback address or with `TEAMS_LOCAL_MODE=true`.

Features plug in by adding their `register(dispatch)` to `FEATURES` (one line each).
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import requests
from aiohttp import web
from botbuilder.integration.aiohttp import (CloudAdapter, ConfigurationBotFrameworkAuthentication,
                                            ConfigurationServiceClientCredentialFactory)
from botbuilder.schema import Activity
from botframework.connector.auth import ChannelValidation

from core import metrics
from core.config import Settings
from core.services.deps import Deps
from teams_app import agreements, digest, drivers_seat, focus, llm, meetings, one_thing, programmes, rounds, stuck
from teams_app.bot import Dispatch, UnmeetBot
from teams_app.credentials import OffLoopCredentialFactory
from teams_app.messenger import TeamsMessenger

log = logging.getLogger("unmeet.teams")

# every feature's register(dispatch)
FEATURES = (rounds.register, focus.register, meetings.register, digest.register, llm.register, one_thing.register,
            agreements.register, stuck.register, drivers_seat.register, programmes.register)


class _BotConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings):
        self.APP_ID = settings.microsoft_app_id
        self.APP_PASSWORD = settings.microsoft_app_password
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id


class _Authentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder refuses most bad tokens with a PermissionError (CloudAdapter's 401) but trips over some:
    an unreadable token (PyJWTError), a key id the published keys lack (IndexError), a key not endorsed
    for the channel (a bare Exception). Those are refusals too. Not reaching the key server, or not within
    CHECK_SECONDS, is a 503: the fault is not the sender's, and the channel tries again.

    A token is checked in a thread of our own pool, not on the event loop: botbuilder fetches the signing
    keys inside the check, with a blocking `requests.get` and no timeout, whenever its cache says so (the
    first token, then daily; per metadata URL, and a forged token's issuer picks the URL: the channel's or
    the Emulator's). Keeping its cache warm from a background task instead would read and write its private
    cache, copy its refresh rules and still leave the Emulator URL's fetch on the loop; running its public
    `authenticate_request` elsewhere (in an event loop of its own) relies on none of its insides, and no
    token, forged or not, can stall Slack or anything else. A slow key server holds up only the Teams
    requests that wait for it, and a fetch that outlives CHECK_SECONDS still fills the cache for the
    channel's retry. A pool of our own so that such fetches take at most CHECK_THREADS threads and none
    of the default executor's (DNS lookups); its threads are joined at exit, so one stuck on a key server
    that never answers keeps the process from exiting until that connection drops.
    Requests without a token need no keys (local mode, or a 401 at once) and stay on the loop."""

    CHECK_SECONDS = 5  # well within the 15 s the channel waits for the bot's answer
    CHECK_THREADS = 4

    def __init__(self, configuration, **options):
        super().__init__(configuration, **options)
        self._checks = ThreadPoolExecutor(self.CHECK_THREADS, thread_name_prefix="teams-token-check")

    async def authenticate_request(self, activity, auth_header):
        try:
            if not auth_header:  # no keys needed: local mode's anonymous request, or a 401 at once
                return await super().authenticate_request(activity, auth_header)
            return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(
                self._checks, self._check_in_thread, activity, auth_header), self.CHECK_SECONDS)
        except PermissionError:
            raise
        except requests.RequestException as error:
            log.warning("could not fetch the Teams token signing keys: %s", error)
            raise web.HTTPServiceUnavailable() from error
        except TimeoutError as error:
            log.warning("could not fetch the Teams token signing keys within %s s", self.CHECK_SECONDS)
            raise web.HTTPServiceUnavailable() from error
        except Exception as error:  # noqa: BLE001 - see above
            log.info("refused a Teams request's token: %s: %s", type(error).__name__, error)
            raise PermissionError("invalid token") from error

    def _check_in_thread(self, activity, auth_header):
        return asyncio.run(super().authenticate_request(activity, auth_header))


class TeamsAdapter:
    def __init__(self, deps: Deps):
        self.settings = deps.settings
        # botbuilder's own hook for the signing keys' address (its BotFrameworkAdapter sets it from settings
        # too); the public-cloud checks stay as they are, only where the keys come from changes.
        ChannelValidation.open_id_metadata_endpoint = self.settings.microsoft_openid_metadata_url or None
        config = _BotConfig(self.settings)
        # The bot's own token (for every send) is fetched off the event loop too: teams_app/credentials.py.
        credentials = OffLoopCredentialFactory(ConfigurationServiceClientCredentialFactory(config),
                                               login_url=self.settings.microsoft_login_url)
        self.adapter = CloudAdapter(_Authentication(config, credentials_factory=credentials))
        self.messenger = TeamsMessenger(deps, self.adapter, self.settings.microsoft_app_id)
        self.dispatch = Dispatch()
        for register in FEATURES:
            register(self.dispatch)
        self.bot = UnmeetBot(deps, self.messenger, self.dispatch, self.settings)

    @property
    def local_mode(self) -> bool:
        return not self.settings.microsoft_app_id

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/messages", self.messages)

    async def messages(self, request: web.Request) -> web.Response:
        """Check the shape before botbuilder sees it: its parser answers malformed input with a 500."""
        if "json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
            activity = Activity().deserialize(body) if isinstance(body, dict) else None
        except (ValueError, TypeError, AttributeError, json.JSONDecodeError) as error:
            log.info("rejected a malformed activity: %s", error)
            activity = None
        except Exception as error:  # noqa: BLE001 - msrest's DeserializationError and kin
            log.info("rejected an activity botbuilder can't read: %s", error)
            activity = None
        if activity is None or not isinstance(activity.type, str) or not isinstance(activity.service_url, str):
            return web.json_response({"error": "expected a Bot Framework activity"}, status=400)
        metrics.request_kind.set(activity.type)
        return await self.adapter.process(request, self.bot)
