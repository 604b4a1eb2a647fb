"""All SQL for the app's installations (one bot per workspace) and their one-time OAuth states."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.refs import WorkspaceRef
from core.persistence.db import upsert
from core.persistence.tables import workspaces
from core.persistence.tables_focus import oauth_states
from core.persistence.tables_installations import installations


@dataclass(frozen=True)
class InstallationRow:
    workspace: WorkspaceRef
    enterprise_id: str | None
    app_id: str
    bot_id: str
    bot_user_id: str
    bot_token_encrypted: str
    bot_scopes: str
    installer_id: str | None
    installed_at: datetime
    workspace_id: int
    bot_refresh_token_encrypted: str | None  # with token rotation
    bot_token_expires_at: datetime | None


def _of(workspace: WorkspaceRef):
    return (sa.select(workspaces.c.id).where(workspaces.c.platform == workspace.platform,
                                             workspaces.c.external_id == workspace.id).scalar_subquery())


async def save_installation(conn: AsyncConnection, workspace_id: int, **values) -> None:
    """Store a workspace's installation, replacing the one before (a reinstall, new scopes)."""
    await conn.execute(upsert(conn, installations).values(workspace_id=workspace_id, **values)
                       .on_conflict_do_update(index_elements=["workspace_id"], set_=values))


async def get_installation(conn: AsyncConnection, workspace: WorkspaceRef) -> InstallationRow | None:
    row = (await conn.execute(sa.select(installations).where(installations.c.workspace_id == _of(workspace)))
           ).one_or_none()
    if row is None:
        return None
    return InstallationRow(workspace, row.enterprise_id, row.app_id, row.bot_id, row.bot_user_id,
                           row.bot_token_encrypted, row.bot_scopes, row.installer_id, row.installed_at,
                           row.workspace_id, row.bot_refresh_token_encrypted, row.bot_token_expires_at)


async def delete_installation(conn: AsyncConnection, workspace: WorkspaceRef) -> int:
    """Forget a workspace's installation (its bot token with it); 0 when there was none."""
    result = await conn.execute(sa.delete(installations).where(installations.c.workspace_id == _of(workspace)))
    return result.rowcount


# An install's OAuth `state` lives beside the focus "Connect" ones, without a person: nobody is known yet.
async def save_install_state(conn: AsyncConnection, state: str, expires_at: datetime) -> None:
    await conn.execute(sa.insert(oauth_states).values(state=state, member_id=None, expires_at=expires_at))


async def take_install_state(conn: AsyncConnection, state: str, now: datetime) -> bool:
    """Use an install state once: True when it was issued for an install and has not expired."""
    row = (await conn.execute(sa.delete(oauth_states).where(oauth_states.c.state == state,
                                                            oauth_states.c.member_id.is_(None))
                              .returning(oauth_states.c.expires_at))).one_or_none()
    return row is not None and row.expires_at > now
