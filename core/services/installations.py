"""Installations: the app's bot in each workspace that added it ("Add to Slack", OAuth v2), for a
process that serves many workspaces. The bot token is stored encrypted, like people's own tokens
(UNMEET_SECRET_KEY), and is only ever decrypted to call the platform; it is never logged.

With token rotation on in the Slack app the bot token expires and comes with a refresh token (stored
encrypted as well): `find_installation` with the platform's `refresh` renews it when due
(core.services.tokens), under a row lock so one instance renews it for all.

The one-time OAuth `state` of an install is issued and used here too, so any instance of the app
can finish an install another one started.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from core.domain.refs import WorkspaceRef
from core.persistence import installations as store
from core.persistence import repository as repo
from core.services import events
from core.services.deps import Deps
from core.persistence.tokens import StoredToken
from core.services import tokens
from core.services.focus import STATE_LIFETIME
from core.services.tokens import decrypt_token, encrypt_token

log = logging.getLogger("unmeet.installations")

INSTALL_STATE_PREFIX = "install."  # tells an install's state from a focus "Connect" one at a shared callback


@dataclass(frozen=True)
class BotInstallation:
    workspace: WorkspaceRef
    bot_user_id: str
    bot_token: str = field(repr=False)  # never in a log line, even by accident
    bot_id: str = ""
    app_id: str = ""
    bot_scopes: str = ""
    enterprise_id: str | None = None
    installer_id: str | None = None
    installed_at: datetime | None = None
    refresh_token: str | None = field(default=None, repr=False)  # with token rotation, else None
    expires_at: datetime | None = None  # when bot_token expires (token rotation), else None: never


async def save_installation(deps: Deps, installation: BotInstallation, *, workspace_name: str | None = None) -> None:
    """Store (or replace, on a reinstall) a workspace's bot, its token encrypted. A workspace that had
    removed the app is back: its jobs may run again."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, installation.workspace, now=now, name=workspace_name)
        await store.save_installation(
            conn, workspace_id, enterprise_id=installation.enterprise_id, app_id=installation.app_id,
            bot_id=installation.bot_id, bot_user_id=installation.bot_user_id,
            bot_token_encrypted=encrypt_token(deps.settings, installation.bot_token),
            bot_refresh_token_encrypted=None if installation.refresh_token is None
            else encrypt_token(deps.settings, installation.refresh_token),
            bot_token_expires_at=installation.expires_at,
            bot_scopes=installation.bot_scopes, installer_id=installation.installer_id, installed_at=now)
    log.info("%s workspace %s installed the app", installation.workspace.platform, installation.workspace.id)
    await events.workspace_seen(deps, installation.workspace, installed=True)


async def find_installation(deps: Deps, workspace: WorkspaceRef, *, refresh: tokens.Refresh | None = None,
                            refused: str | None = None, expired: bool = True) -> BotInstallation | None:
    """The workspace's bot with its token, or None (never installed, removed, or stored under another key).
    With `refresh` (the platform's call), a rotating token is renewed first when it expires soon or the
    platform refused `refused` (core.services.tokens.current; RefreshRefused when it can't be)."""
    async with deps.db.transaction() as conn:
        row = await store.get_installation(conn, workspace)
    if row is None:
        return None
    stored = StoredToken(row.bot_token_encrypted, row.bot_refresh_token_encrypted, row.bot_token_expires_at)
    if refresh is None:
        token = decrypt_token(deps.settings, row.bot_token_encrypted)
    else:
        token = await tokens.current(deps, tokens.BOT, row.workspace_id, refresh, stored=stored, refused=refused,
                                     expired=expired)
    if token is None:
        log.warning("the bot token of %s can't be decrypted (UNMEET_SECRET_KEY changed?): install the app again",
                    workspace.id)
        return None
    return BotInstallation(workspace, row.bot_user_id, token, row.bot_id, row.app_id, row.bot_scopes,
                           row.enterprise_id, row.installer_id, row.installed_at)


async def remove_installation(deps: Deps, workspace: WorkspaceRef) -> bool:
    """The workspace removed the app or revoked its bot token: forget the token. Other workspaces are
    untouched; a second call finds nothing and changes nothing."""
    async with deps.db.transaction() as conn:
        removed = await store.delete_installation(conn, workspace) > 0
    if removed:
        log.info("%s workspace %s: the bot token is deleted", workspace.platform, workspace.id)
    return removed


async def issue_install_state(deps: Deps) -> str:
    state = INSTALL_STATE_PREFIX + secrets.token_urlsafe(32)
    async with deps.db.transaction() as conn:
        await store.save_install_state(conn, state, deps.clock.now() + STATE_LIFETIME)
    return state


async def take_install_state(deps: Deps, state: str) -> bool:
    """True once for a state this app issued for an install and that has not expired."""
    if not state.startswith(INSTALL_STATE_PREFIX):
        return False
    async with deps.db.transaction() as conn:
        return await store.take_install_state(conn, state, deps.clock.now())
