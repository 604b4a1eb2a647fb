"""All SQL for focus sessions, planned blocks, goals, personal tokens, OAuth states and meeting checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.refs import WorkspaceRef
from core.jobs.queue import PENDING
from core.persistence.db import upsert
from core.persistence.tables import jobs, members, workspaces
from core.persistence.tables_focus import (focus_blocks, focus_goals, focus_sessions, meeting_checks, oauth_states,
                                           user_tokens)


@dataclass(frozen=True)
class SessionRow:
    id: int
    workspace_id: int
    member_id: int
    category: str
    topic: str
    started_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    status_set: bool

    @property
    def stopped_at(self) -> datetime:
        """When it stops counting: its end, or earlier when it was stopped or replaced."""
        return self.ended_at if self.ended_at is not None else self.ends_at


@dataclass(frozen=True)
class BlockRow:
    id: int
    workspace_id: int
    member_id: int
    starts_at: datetime
    minutes: int
    status: str


PLANNED, STARTED, CANCELLED = "planned", "started", "cancelled"


# --- sessions ---------------------------------------------------------------------------------------
def _session(row) -> SessionRow:
    return SessionRow(row.id, row.workspace_id, row.member_id, row.category, row.topic, row.started_at,
                      row.ends_at, row.ended_at, row.ended_by, row.status_set)


async def insert_session(conn: AsyncConnection, **values) -> int:
    return (await conn.execute(sa.insert(focus_sessions).values(**values).returning(focus_sessions.c.id))).scalar_one()


async def get_session(conn: AsyncConnection, session_id: int) -> SessionRow | None:
    row = (await conn.execute(sa.select(focus_sessions).where(focus_sessions.c.id == session_id))).one_or_none()
    return None if row is None else _session(row)


async def active_session(conn: AsyncConnection, member_id: int, now: datetime) -> SessionRow | None:
    row = (await conn.execute(
        sa.select(focus_sessions)
        .where(focus_sessions.c.member_id == member_id, focus_sessions.c.ended_at.is_(None),
               focus_sessions.c.started_at <= now, focus_sessions.c.ends_at > now)
        .order_by(focus_sessions.c.started_at.desc()).limit(1))).one_or_none()
    return None if row is None else _session(row)


async def focus_ends_at(conn: AsyncConnection, member_id: int, now: datetime) -> datetime | None:
    """When this person's running focus session ends, or None when they are not in focus.
    Other features hold back what they would send until then."""
    session = await active_session(conn, member_id, now)
    return None if session is None else session.ends_at


async def end_session(conn: AsyncConnection, session_id: int, *, at: datetime, by: str) -> bool:
    """Mark a session ended, once; False when it had already ended."""
    result = await conn.execute(sa.update(focus_sessions).where(
        focus_sessions.c.id == session_id, focus_sessions.c.ended_at.is_(None)).values(ended_at=at, ended_by=by))
    return result.rowcount == 1


async def set_status_set(conn: AsyncConnection, session_id: int, value: bool) -> None:
    await conn.execute(sa.update(focus_sessions).where(focus_sessions.c.id == session_id)
                       .values(status_set=value))


async def sessions_between(conn: AsyncConnection, member_id: int, start: datetime, end: datetime) -> list[SessionRow]:
    """Sessions of a person that overlap [start, end)."""
    rows = (await conn.execute(
        sa.select(focus_sessions)
        .where(focus_sessions.c.member_id == member_id, focus_sessions.c.started_at < end,
               sa.func.coalesce(focus_sessions.c.ended_at, focus_sessions.c.ends_at) > start)
        .order_by(focus_sessions.c.started_at))).all()
    return [_session(row) for row in rows]


async def release_held_reminders(conn: AsyncConnection, workspace_id: int, member_id: int, *, held_until: datetime,
                                 now: datetime, kinds: tuple[str, ...] = ("round.remind",)) -> int:
    """Nudges (jobs of `kinds`) to this person that waited for a focus session's planned end are due now
    (the session ended earlier). Returns how many were moved."""
    rows = (await conn.execute(sa.select(jobs.c.id, jobs.c.payload).where(
        jobs.c.workspace_id == workspace_id, jobs.c.kind.in_(kinds), jobs.c.status == PENDING,
        jobs.c.due_at > now, jobs.c.due_at <= held_until))).all()
    ids = [row.id for row in rows if row.payload.get("member") == member_id]
    if ids:
        await conn.execute(sa.update(jobs).where(jobs.c.id.in_(ids)).values(due_at=now))
    return len(ids)


# --- planned blocks -----------------------------------------------------------------------------------
def _block(row) -> BlockRow:
    return BlockRow(row.id, row.workspace_id, row.member_id, row.starts_at, row.minutes, row.status)


async def future_blocks(conn: AsyncConnection, member_id: int, now: datetime) -> list[BlockRow]:
    rows = (await conn.execute(sa.select(focus_blocks).where(
        focus_blocks.c.member_id == member_id, focus_blocks.c.status == PLANNED, focus_blocks.c.starts_at >= now)
        .order_by(focus_blocks.c.starts_at))).all()
    return [_block(row) for row in rows]


async def cancel_blocks(conn: AsyncConnection, ids: list[int]) -> None:
    if ids:
        await conn.execute(sa.update(focus_blocks).where(focus_blocks.c.id.in_(ids), focus_blocks.c.status == PLANNED)
                           .values(status=CANCELLED))


async def insert_block(conn: AsyncConnection, **values) -> int:
    return (await conn.execute(sa.insert(focus_blocks).values(status=PLANNED, **values)
                               .returning(focus_blocks.c.id))).scalar_one()


async def get_block(conn: AsyncConnection, block_id: int) -> BlockRow | None:
    row = (await conn.execute(sa.select(focus_blocks).where(focus_blocks.c.id == block_id))).one_or_none()
    return None if row is None else _block(row)


async def mark_block_started(conn: AsyncConnection, block_id: int) -> bool:
    """Planned -> started, once (a second click on the same button does nothing)."""
    result = await conn.execute(sa.update(focus_blocks).where(
        focus_blocks.c.id == block_id, focus_blocks.c.status == PLANNED).values(status=STARTED))
    return result.rowcount == 1


# --- goals --------------------------------------------------------------------------------------------
async def set_goal(conn: AsyncConnection, workspace_id: int, member_id: int | None, minutes: int) -> None:
    scope = f"w:{workspace_id}" if member_id is None else f"m:{member_id}"
    statement = upsert(conn, focus_goals).values(workspace_id=workspace_id, member_id=member_id,
                                                 weekly_minutes=minutes, scope=scope)
    await conn.execute(statement.on_conflict_do_update(index_elements=["scope"], set_={"weekly_minutes": minutes}))


async def get_goals(conn: AsyncConnection, workspace_id: int, member_id: int | None) -> tuple[int | None, int | None]:
    """(the person's own goal, the workspace's goal); None where not set."""
    scopes = [f"w:{workspace_id}"] + ([f"m:{member_id}"] if member_id is not None else [])
    rows = dict((await conn.execute(sa.select(focus_goals.c.scope, focus_goals.c.weekly_minutes)
                                    .where(focus_goals.c.scope.in_(scopes)))).all())
    return rows.get(f"m:{member_id}"), rows.get(f"w:{workspace_id}")


# --- personal tokens -----------------------------------------------------------------------------------
async def save_token(conn: AsyncConnection, member_id: int, encrypted: str, scopes: str, now: datetime, *,
                     refresh_encrypted: str | None = None, expires_at: datetime | None = None) -> None:
    values = {"token_encrypted": encrypted, "scopes": scopes, "created_at": now,
              "refresh_token_encrypted": refresh_encrypted, "expires_at": expires_at}
    await conn.execute(upsert(conn, user_tokens).values(member_id=member_id, **values)
                       .on_conflict_do_update(index_elements=["member_id"], set_=values))


async def get_token(conn: AsyncConnection, member_id: int) -> str | None:
    """The encrypted token, or None."""
    return (await conn.execute(sa.select(user_tokens.c.token_encrypted)
                               .where(user_tokens.c.member_id == member_id))).scalar_one_or_none()


async def delete_token(conn: AsyncConnection, member_id: int) -> None:
    await conn.execute(sa.delete(user_tokens).where(user_tokens.c.member_id == member_id))


async def delete_tokens_of(conn: AsyncConnection, workspace: WorkspaceRef, user_ids: list[str]) -> int:
    """Drop the personal tokens of these people in this workspace, nobody else's."""
    if not user_ids:
        return 0
    member_ids = (sa.select(members.c.id).join(workspaces, workspaces.c.id == members.c.workspace_id)
                  .where(workspaces.c.platform == workspace.platform, workspaces.c.external_id == workspace.id,
                         members.c.external_id.in_(user_ids)))
    result = await conn.execute(sa.delete(user_tokens).where(user_tokens.c.member_id.in_(member_ids.scalar_subquery())))
    return result.rowcount


async def save_state(conn: AsyncConnection, state: str, member_id: int, expires_at: datetime) -> None:
    await conn.execute(sa.insert(oauth_states).values(state=state, member_id=member_id, expires_at=expires_at))


async def take_state(conn: AsyncConnection, state: str, now: datetime) -> int | None:
    """Use a state once: the member it was made for, or None when unknown or expired."""
    row = (await conn.execute(sa.delete(oauth_states).where(oauth_states.c.state == state)
                              .returning(oauth_states.c.member_id, oauth_states.c.expires_at))).one_or_none()
    if row is None or row.expires_at <= now:
        return None
    return row.member_id


# --- meeting checks -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckRow:
    id: int
    workspace_id: int
    member_id: int
    purpose: str
    agenda: str
    people: int
    minutes: int
    frequency: str
    verdict: str
    person_hours: float
    monthly_person_hours: float | None
    converted_at: datetime | None
    created_at: datetime


async def insert_check(conn: AsyncConnection, **values) -> int:
    return (await conn.execute(sa.insert(meeting_checks).values(**values).returning(meeting_checks.c.id))).scalar_one()


def _check(row) -> CheckRow:
    return CheckRow(row.id, row.workspace_id, row.member_id, row.purpose, row.agenda, row.people, row.minutes,
                    row.frequency, row.verdict, row.person_hours, row.monthly_person_hours, row.converted_at,
                    row.created_at)


async def get_check(conn: AsyncConnection, check_id: int) -> CheckRow | None:
    row = (await conn.execute(sa.select(meeting_checks).where(meeting_checks.c.id == check_id))).one_or_none()
    return None if row is None else _check(row)


async def mark_converted(conn: AsyncConnection, check_id: int, now: datetime) -> None:
    await conn.execute(sa.update(meeting_checks).where(
        meeting_checks.c.id == check_id, meeting_checks.c.converted_at.is_(None)).values(converted_at=now))
