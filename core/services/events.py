"""Platform events that are not a person's request: redeliveries and uninstalls."""

from __future__ import annotations

import logging

from core.domain.refs import WorkspaceRef
from core.jobs import queue
from core.persistence import repository as repo
from core.services.deps import Deps

log = logging.getLogger("unmeet.events")


async def first_sighting(deps: Deps, event_id: str) -> bool:
    """True the first time an event id arrives. Platforms redeliver events they think were missed
    (Slack adds `X-Slack-Retry-Num`); only the first delivery may have an effect."""
    async with deps.db.transaction() as conn:
        return await repo.first_sighting(conn, event_id, deps.clock.now())


async def workspace_uninstalled(deps: Deps, workspace: WorkspaceRef) -> int:
    """The app was removed from a workspace: nothing more may be sent there, so its pending jobs are
    cancelled. Other workspaces are untouched; a second delivery cancels nothing more."""
    now = deps.clock.now()
    async with deps.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, workspace, now=now)
        cancelled = await queue.cancel(conn, workspace_id=workspace_id, now=now)
    log.info("%s workspace %s uninstalled: %d pending job(s) cancelled", workspace.platform, workspace.id, cancelled)
    return cancelled
