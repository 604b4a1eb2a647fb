"""SQL for the Teams adapter: stored conversation references, and people as Teams describes them.

Kept in core/persistence so teams_app/ holds no SQL; the values are plain JSON and strings, so
nothing here depends on botbuilder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.refs import PersonRef, WorkspaceRef
from core.persistence import repository as repo
from core.persistence.db import upsert
from core.persistence.tables import jobs, members, workspaces
from core.persistence.tables_teams import teams_conversations, teams_sends

PERSON, CHANNEL, TEAM = "person", "channel", "team"
# The reference of the activity that added the app to a team: its `user` is who installed it there.
INSTALL = "install"
CARD_PREFIX = "teams:card:"  # seen_events ids of submitted cards (kept longer than event ids: see privacy)


@dataclass(frozen=True)
class StoredReference:
    tenant: str
    kind: str
    external_id: str
    conversation_id: str
    reference: dict
    team_id: str | None
    aad_group_id: str | None = None


def _select():
    return (sa.select(teams_conversations, workspaces.c.external_id.label("tenant"))
            .join(workspaces, workspaces.c.id == teams_conversations.c.workspace_id)
            .where(workspaces.c.platform == "teams"))


def _stored(row) -> StoredReference:
    return StoredReference(row.tenant, row.kind, row.external_id, row.conversation_id, row.reference, row.team_id,
                           row.aad_group_id)


async def save_reference(conn: AsyncConnection, workspace: WorkspaceRef, kind: str, external_id: str,
                         reference: dict, *, now: datetime, team_id: str | None = None,
                         aad_group_id: str | None = None) -> None:
    """Insert or refresh a reference (service URLs and conversation ids can change; the newest wins).
    A team id or group id not given keeps the one stored."""
    workspace_id = await repo.ensure_workspace(conn, workspace, now=now)
    values = {"reference": reference, "conversation_id": reference["conversation"]["id"], "updated_at": now}
    values.update({k: v for k, v in {"team_id": team_id, "aad_group_id": aad_group_id}.items() if v})
    statement = upsert(conn, teams_conversations).values(workspace_id=workspace_id, kind=kind,
                                                         external_id=external_id, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["workspace_id", "kind", "external_id"],
                                                       set_=values))


async def get_reference(conn: AsyncConnection, workspace: WorkspaceRef, kind: str,
                        external_id: str) -> StoredReference | None:
    row = (await conn.execute(_select().where(
        workspaces.c.external_id == workspace.id, teams_conversations.c.kind == kind,
        teams_conversations.c.external_id == external_id))).one_or_none()
    return None if row is None else _stored(row)


async def team_group(conn: AsyncConnection, workspace: WorkspaceRef, channel_id: str) -> str | None:
    """The Microsoft 365 group id of the team a channel is in, if Teams has told the bot (it comes with
    the app's install in the team and other team events)."""
    channel = (await get_reference(conn, workspace, CHANNEL, channel_id)
               or await get_reference(conn, workspace, TEAM, channel_id))
    team = channel and await get_reference(conn, workspace, TEAM, channel.team_id or channel.external_id)
    return team.aad_group_id if team else None


async def find_by_conversation(conn: AsyncConnection, conversation_id: str) -> StoredReference | None:
    row = (await conn.execute(_select().where(teams_conversations.c.conversation_id == conversation_id)
                              .order_by(teams_conversations.c.updated_at.desc()).limit(1))).one_or_none()
    return None if row is None else _stored(row)


async def team_references(conn: AsyncConnection, workspace: WorkspaceRef) -> list[StoredReference]:
    """The teams of a tenant the app is installed in, most recently seen first."""
    rows = (await conn.execute(_select().where(
        workspaces.c.external_id == workspace.id, teams_conversations.c.kind == TEAM)
        .order_by(teams_conversations.c.updated_at.desc()))).all()
    return [_stored(row) for row in rows]


async def installer(conn: AsyncConnection, workspace: WorkspaceRef, team_id: str) -> str | None:
    """Who most recently added the app to the team (their 29: id), if the bot saw it happen."""
    stored = await get_reference(conn, workspace, INSTALL, team_id)
    user = stored.reference.get("user") if stored else None
    return user.get("id") if isinstance(user, dict) else None


async def anchor_reference(conn: AsyncConnection, workspace: WorkspaceRef) -> StoredReference | None:
    """Any reference in the tenant, for its service URL and bot account (to open a new 1:1 chat)."""
    priority = sa.case({TEAM: 0, CHANNEL: 1}, value=teams_conversations.c.kind, else_=2)
    row = (await conn.execute(_select().where(workspaces.c.external_id == workspace.id)
                              .order_by(priority, teams_conversations.c.updated_at.desc()).limit(1))).one_or_none()
    return None if row is None else _stored(row)


async def remember_person(conn: AsyncConnection, person: PersonRef, *, now: datetime, name: str | None = None,
                          locale: str | None = None, tz: str | None = None, left: bool | None = None,
                          reachable: bool = False) -> None:
    """What an activity or a roster says about a person (only the facts given change).
    `left=True` marks someone who left the team (core stops messaging them); `reachable=True` (they
    just wrote to the bot in their 1:1 chat) forgets an earlier failure to reach them. The first zone a
    client tells becomes the workspace's, for the people whose own zone isn't known yet."""
    workspace_id = await repo.ensure_workspace(conn, person.workspace, now=now)
    member_id = await repo.ensure_member(conn, workspace_id, person.id, now=now, name=name or None, locale=locale,
                                         tz=tz, is_bot=False, deleted=left)
    if tz:
        await repo.adopt_zone(conn, workspace_id, tz)
    if reachable:
        await conn.execute(sa.update(members).where(members.c.id == member_id).values(unreachable=None))


async def first_submit(conn: AsyncConnection, nonce: str, now: datetime) -> bool:
    """True the first time a card (identified by the nonce it was rendered with) is submitted."""
    return await repo.first_sighting(conn, f"{CARD_PREFIX}{nonce}"[:128], now)


# --- sends under a job's key (see tables_teams.teams_sends) ----------------------------------------------
@dataclass(frozen=True)
class Send:
    conversation_id: str
    activity_id: str | None  # None: the send began and nobody heard how it ended


def _generation(key: str):
    """The generation of the job with this key now (0 without such a job)."""
    return sa.func.coalesce(sa.select(jobs.c.generation).where(jobs.c.key == key).scalar_subquery(), 0)


async def begin_send(conn: AsyncConnection, workspace: WorkspaceRef, key: str, conversation_id: str, *,
                     now: datetime, once: bool = False) -> bool:
    """About to send under `key` into `conversation_id`: committed before the request goes out. With
    `once` (a DM), only if no send of the job's current generation began: False says another worker
    already began it (it stalled past its lease, or took over from one that did), so this one mustn't."""
    workspace_id = await repo.ensure_workspace(conn, workspace, now=now)
    values = {"generation": _generation(key), "workspace_id": workspace_id, "conversation_id": conversation_id,
              "activity_id": None, "started_at": now, "sent_at": None}
    statement = upsert(conn, teams_sends).values(key=key, **values)
    statement = statement.on_conflict_do_update(
        index_elements=["key"], set_=values,
        where=(teams_sends.c.generation != statement.excluded.generation) if once else None)
    return (await conn.execute(statement.returning(teams_sends.c.key))).first() is not None


async def sent(conn: AsyncConnection, key: str, activity_id: str, *, now: datetime) -> None:
    await conn.execute(sa.update(teams_sends).where(teams_sends.c.key == key)
                       .values(activity_id=activity_id, sent_at=now))


async def not_sent(conn: AsyncConnection, key: str) -> None:
    """Teams refused the send (or never got it): as if it had not begun."""
    await conn.execute(sa.delete(teams_sends).where(teams_sends.c.key == key))


async def find_send(conn: AsyncConnection, key: str) -> Send | None:
    """The send under `key` by its job's current generation, if one began."""
    row = (await conn.execute(sa.select(teams_sends.c.conversation_id, teams_sends.c.activity_id).where(
        teams_sends.c.key == key, teams_sends.c.generation == _generation(key)))).one_or_none()
    return None if row is None else Send(row.conversation_id, row.activity_id)
