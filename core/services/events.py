"""Platform events that are not a person's request: redeliveries, uninstalls and coming back."""

from __future__ import annotations

import logging
import time

from core.domain.refs import WorkspaceRef
from core.jobs import queue
from core.persistence import repository as repo
from core.services.deps import Deps

log = logging.getLogger("unmeet.events")
PRESENT_RECHECK_SECONDS = 60.0


async def first_sighting(deps: Deps, event_id: str) -> bool:
    """True the first time an event id arrives. Platforms redeliver events they think were missed
    (Slack adds `X-Slack-Retry-Num`); only the first delivery may have an effect."""
    async with deps.db.transaction() as conn:
        return await repo.first_sighting(conn, event_id, deps.clock.now())


async def workspace_uninstalled(deps: Deps, workspace: WorkspaceRef) -> int:
    """The app was removed from a workspace: nothing more may be sent there. Its pending jobs are
    cancelled now, and the workspace is marked uninstalled, so the job queue also cancels whatever a
    handler that was running at this moment queues afterwards. Its data stays until the retention
    sweep deletes it (`UNMEET_RETENTION_DAYS` after the uninstall). Other workspaces are untouched; a
    second delivery cancels nothing more and keeps the first date."""
    now = deps.clock.now()
    deps.present_workspaces.pop(workspace, None)
    async with deps.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, workspace, now=now)
        await repo.mark_uninstalled(conn, workspace_id, now)
        cancelled = await queue.cancel(conn, workspace_id=workspace_id, now=now)
    log.info("%s workspace %s uninstalled: %d pending job(s) cancelled", workspace.platform, workspace.id, cancelled)
    return cancelled


async def workspace_seen(deps: Deps, workspace: WorkspaceRef, *, installed: bool = False) -> None:
    """A request from the workspace (a command, a click, an event other than the uninstall itself) or
    a new install (`installed`): the app is there again, so its jobs may run again.

    Requests ask the database at most once a minute per workspace and process: a transaction on every
    request before its acknowledgement tripled the CPU each request costs. The price: a workspace that
    uninstalls and, within that minute, comes back without a new install through unmeet (only possible
    with SLACK_BOT_TOKEN) is noticed on its first request after the minute."""
    checked = deps.present_workspaces.get(workspace)
    if not installed and checked is not None and time.monotonic() - checked < PRESENT_RECHECK_SECONDS:
        return
    async with deps.db.transaction() as conn:
        back = await repo.mark_back(conn, workspace)
    deps.present_workspaces[workspace] = time.monotonic()
    if back:
        log.info("%s workspace %s uses the app again", workspace.platform, workspace.id)
