"""Installs into many workspaces: "Add to Slack" (OAuth v2) through Bolt's OAuth flow, with each
workspace's bot and the one-time install states in our database (core.services.installations).

On when UNMEET_SLACK_CLIENT_ID and UNMEET_SLACK_CLIENT_SECRET are set and SLACK_BOT_TOKEN is not.
`GET /slack/install` sends the browser to Slack's authorisation page for the manifest's bot scopes,
with a fresh `state` that is also set as a cookie. Slack sends the person back to the manifest's one
redirect URL, `/slack/oauth_redirect`, which also serves the focus "Connect" flow: an install's state
starts with "install.", so each callback goes to the flow that issued it (any other state, or none, is
focus's to refuse). Bolt then refuses a missing, unknown, used or expired state, or one coming back to
another browser, before anything is exchanged or stored; else it exchanges the code with
oauth.v2.access and saves the installation here. Every request after that is authorised with the
workspace's stored bot (Bolt's `authorize`), and jobs send with it through `SlackBots`.

With token rotation on in the Slack app, the install also stores the refresh token and expiry Slack
gives; Bolt's `authorize` finds the bot through `SlackBots.installation`, which renews the token when it
is due, and the listeners get the workspace's `RotatingWebClient` (renewed and sent once more on
`token_expired`). Bolt's own rotation is not used: it would renew without the row lock.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime, timezone

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.error import BoltError
from slack_bolt.oauth.async_callback_options import AsyncCallbackOptions, AsyncFailureArgs, AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from core.domain.refs import WorkspaceRef
from core.domain.text import N_
from core.messages.i18n import Translator, translator
from core.services import installations
from core.services.deps import Deps
from core.services.installations import INSTALL_STATE_PREFIX, BotInstallation
from slack_app import focus
from slack_app.bots import NotInstalled, SlackBots

log = logging.getLogger("unmeet.slack.installs")

INSTALL_PATH = "/slack/install"
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
# The bot scopes an install asks for: manifest/slack/manifest.yaml's oauth_config.scopes.bot, which a
# test keeps equal to this list (the manifest explains each one).
BOT_SCOPES = ("commands", "chat:write", "im:write", "im:history", "users:read", "channels:read", "groups:read",
              "files:write", "pins:write")

INSTALLED = N_("unmeet is now installed in {workspace}. Invite it to a channel (/invite @unmeet) and type "
               "/share-insight there. You can close this page.")
NOT_INSTALLED = N_("The installation didn't go through: it was cancelled, the link expired or was already used, "
                   "or it was opened in another browser.")
TRY_AGAIN = N_("Try again")
NO_INSTALLATION = N_("unmeet isn't installed in this workspace (any more). Ask a workspace admin to add it again.")


class InstallationStore(AsyncInstallationStore):
    """Bolt's installation store on our database: the bot of each workspace (people's own tokens for
    focus time are stored apart, by the "Connect" flow)."""

    def __init__(self, deps: Deps, bots: SlackBots):
        self.deps = deps
        self.bots = bots
        # Bolt's authorize keeps its auth.test answer per token (`cache_enabled`); with token rotation
        # each workspace gets a new token twice a day, so the answer for the one before is dropped.
        self.authorize_cache: dict = {}
        self._tokens: dict[str, str] = {}  # team -> the token last handed to Bolt

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        if not (installation.team_id and installation.bot_token and installation.bot_user_id):
            raise BoltError("only installs into a workspace, with the app's bot, are supported")
        workspace = WorkspaceRef("slack", installation.team_id)
        await installations.save_installation(self.deps, BotInstallation(
            workspace, installation.bot_user_id, installation.bot_token, bot_id=installation.bot_id or "",
            app_id=installation.app_id or "", bot_scopes=",".join(installation.bot_scopes or ()),
            enterprise_id=installation.enterprise_id, installer_id=installation.user_id,
            refresh_token=installation.bot_refresh_token,
            expires_at=None if installation.bot_token_expires_at is None
            else datetime.fromtimestamp(installation.bot_token_expires_at, timezone.utc)),
            workspace_name=installation.team_name)
        self.bots.forget(workspace)  # a reinstall's new token is used at once

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False) -> Bot | None:
        """The bot with a token that works (renewed here when due); without its refresh token, so Bolt
        never renews it on its own."""
        if not team_id:
            return None
        try:
            found = await self.bots.installation(WorkspaceRef("slack", team_id))
        except NotInstalled:
            return None
        previous = self._tokens.get(team_id)
        if previous != found.bot_token:
            if previous is not None:
                self.authorize_cache.pop(previous, None)
            self._tokens[team_id] = found.bot_token
        return Bot(app_id=found.app_id, enterprise_id=found.enterprise_id, team_id=team_id, bot_token=found.bot_token,
                   bot_id=found.bot_id, bot_user_id=found.bot_user_id, bot_scopes=found.bot_scopes,
                   installed_at=found.installed_at)


class StateStore(AsyncOAuthStateStore):
    """Install states in our database, so any instance can finish an install another one started."""

    def __init__(self, deps: Deps):
        self.deps = deps

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args, **kwargs) -> str:
        return await installations.issue_install_state(self.deps)

    async def async_consume(self, state: str) -> bool:
        return await installations.take_install_state(self.deps, state or "")


def _browser_translator(deps: Deps, request: AsyncBoltRequest) -> Translator:
    """The installer isn't known yet: their browser's first language, else the default."""
    accepted = (request.headers.get("accept-language") or [""])[0]
    return translator(accepted.split(",")[0].split(";")[0].strip() or None, deps.settings.unmeet_default_locale)


def _page(status: int, body: str, args: AsyncSuccessArgs | AsyncFailureArgs) -> BoltResponse:
    """The browser page after an install's callback; the state's cookie is no longer needed."""
    return BoltResponse(status=status, body=focus.html_page(body), headers={
        "Content-Type": "text/html; charset=utf-8",
        "Set-Cookie": args.settings.state_utils.build_set_cookie_for_deletion()})


def bolt_options(deps: Deps, bots: SlackBots) -> dict:
    """AsyncApp's arguments for installs: the OAuth flow on our database, and `authorize` finding the
    workspace's bot for each request. Bolt's authorize would also call auth.test for every request — a
    Slack call before each ack, under a rate limit of about 100 a minute per workspace — so its result is
    kept per token (`cache_enabled`); a removed installation is still refused at once, as the bot is
    looked up every time."""
    settings = deps.settings
    store = InstallationStore(deps, bots)

    async def installed(args: AsyncSuccessArgs) -> BoltResponse:
        t = _browser_translator(deps, args.request)
        name = args.installation.team_name or args.installation.team_id
        return _page(200, f"<p>{html.escape(t.gettext(INSTALLED, workspace=name))}</p>", args)

    async def not_installed(args: AsyncFailureArgs) -> BoltResponse:
        log.info("Slack install refused: %s", args.reason)
        t = _browser_translator(deps, args.request)
        again = f'<p><a href="{INSTALL_PATH}">{html.escape(t.gettext(TRY_AGAIN))}</a></p>'
        return _page(args.suggested_status_code, f"<p>{html.escape(t.gettext(NOT_INSTALLED))}</p>{again}", args)

    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id, client_secret=settings.slack_client_secret, scopes=list(BOT_SCOPES),
        user_scopes=[], install_path=INSTALL_PATH, install_page_rendering_enabled=False,
        redirect_uri_path=OAUTH_REDIRECT_PATH, installation_store=store, installation_store_bot_only=True,
        state_store=StateStore(deps), callback_options=AsyncCallbackOptions(success=installed, failure=not_installed),
        state_expiration_seconds=int(installations.STATE_LIFETIME.total_seconds()), logger=log)
    authorize = AsyncInstallationStoreAuthorize(logger=log, installation_store=store, bot_only=True,
                                                cache_enabled=True, client=bots.client)
    store.authorize_cache = authorize.authorize_result_cache
    return dict(
        oauth_settings=oauth_settings,
        authorize=authorize,
        user_facing_authorize_error_message=translator(settings.unmeet_default_locale).gettext(NO_INSTALLATION))


def use_workspace_clients(bolt: AsyncApp, bots: SlackBots) -> None:
    """Listeners call Slack with the workspace's own bot client instead of the plain one Bolt makes for
    each request: the same token, paced with the workspace's jobs, through the shared HTTP session, and
    renewed and sent once more when Slack answers `token_expired`."""

    @bolt.use
    async def workspace_client(context, next):
        team = context.team_id
        if team and context.client is not None and context.client.token:
            try:
                context["client"] = (await bots.bot(WorkspaceRef("slack", team))).client
            except NotInstalled:
                pass  # removed meanwhile: Bolt's client gets Slack's refusal
        await next()


def add_routes(app: web.Application, deps: Deps, bolt: AsyncApp) -> None:
    """`GET /slack/oauth_redirect` for both OAuth flows, and, with installs on, `GET /slack/install`.
    One redirect URL keeps the Slack app's configuration (and the manifest) to a single entry; the
    state tells the flows apart, and each still checks its own."""
    flow = bolt.oauth_flow

    async def oauth_redirect(request: web.Request) -> web.Response:
        if flow is not None and request.query.get("state", "").startswith(INSTALL_STATE_PREFIX):
            return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))
        return await focus.connect_callback(deps, request)

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    app.router.add_get(OAUTH_REDIRECT_PATH, oauth_redirect)
    if flow is not None:
        app.router.add_get(INSTALL_PATH, install)
