"""All SQL of the stuck log: a channel's running log, its entries (a person's own, or the team's
figures without text or names), closing it with its report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.stuck import Entry, EntryInput
from core.persistence.db import upsert
from core.persistence.tables import channels
from core.persistence.tables_stuck import stuck_entries, stuck_logs

RUNNING, CLOSED = "running", "closed"


@dataclass(frozen=True)
class LogRow:
    id: int
    workspace_id: int
    channel_id: int
    channel_external_id: str
    started_by: int | None
    action_id: int | None
    days: tuple[date, ...]
    tz: str | None
    starts_at: datetime
    ends_at: datetime
    state: str
    report: dict | None

    @property
    def running(self) -> bool:
        return self.state == RUNNING


@dataclass(frozen=True)
class EntryRow:
    id: int
    what: str
    kind: str
    other: str | None
    knew: str
    waited: str
    note: str | None
    created_at: datetime


def _log_query():
    return sa.select(stuck_logs, channels.c.external_id.label("channel_external_id")).join(
        channels, channels.c.id == stuck_logs.c.channel_id)


def _log(row) -> LogRow:
    return LogRow(row.id, row.workspace_id, row.channel_id, row.channel_external_id, row.started_by, row.action_id,
                  tuple(date.fromisoformat(d) for d in row.days), row.tz, row.starts_at, row.ends_at, row.state,
                  row.report)


async def get_log(conn: AsyncConnection, log_id: int) -> LogRow | None:
    row = (await conn.execute(_log_query().where(stuck_logs.c.id == log_id))).one_or_none()
    return None if row is None else _log(row)


async def running_log(conn: AsyncConnection, channel_id: int) -> LogRow | None:
    row = (await conn.execute(_log_query().where(stuck_logs.c.channel_id == channel_id,
                                                 stuck_logs.c.state == RUNNING))).one_or_none()
    return None if row is None else _log(row)


async def log_of_action(conn: AsyncConnection, action_id: int) -> LogRow | None:
    row = (await conn.execute(_log_query().where(stuck_logs.c.action_id == action_id))).one_or_none()
    return None if row is None else _log(row)


async def insert_log(conn: AsyncConnection, *, workspace_id: int, channel_id: int, started_by: int | None,
                     action_id: int | None, days: tuple[date, ...], tz: str | None, starts_at: datetime,
                     ends_at: datetime, now: datetime) -> int | None:
    """The new log's id; None when the channel already has a running one (or the action its log): the
    unique indexes decide, so two starts racing make one log."""
    return (await conn.execute(upsert(conn, stuck_logs).values(
        workspace_id=workspace_id, channel_id=channel_id, started_by=started_by, action_id=action_id,
        days=[d.isoformat() for d in days], tz=tz, starts_at=starts_at, ends_at=ends_at, state=RUNNING,
        created_at=now).on_conflict_do_nothing().returning(stuck_logs.c.id))).scalar_one_or_none()


async def close_log(conn: AsyncConnection, log_id: int, *, report: dict, now: datetime) -> bool:
    """Closed with its report; False when it was closed already."""
    result = await conn.execute(sa.update(stuck_logs).where(stuck_logs.c.id == log_id, stuck_logs.c.state == RUNNING)
                                .values(state=CLOSED, report=report, closed_at=now))
    return result.rowcount == 1


async def add_entry(conn: AsyncConnection, *, log_id: int, member_id: int, entry: EntryInput, now: datetime) -> int:
    return (await conn.execute(sa.insert(stuck_entries).values(
        log_id=log_id, member_id=member_id, what=entry.what.strip(), kind=entry.kind,
        other=entry.other.strip() or None, knew=entry.knew, waited=entry.waited, note=entry.note.strip() or None,
        created_at=now).returning(stuck_entries.c.id))).scalar_one()


def _entry(row) -> EntryRow:
    return EntryRow(row.id, row.what, row.kind, row.other, row.knew, row.waited, row.note, row.created_at)


async def own_entries(conn: AsyncConnection, log_id: int, member_id: int) -> list[EntryRow]:
    """One person's entries in a log, oldest first: only ever shown to them."""
    rows = (await conn.execute(sa.select(stuck_entries).where(
        stuck_entries.c.log_id == log_id, stuck_entries.c.member_id == member_id)
        .order_by(stuck_entries.c.created_at, stuck_entries.c.id))).all()
    return [_entry(row) for row in rows]


async def team_entries(conn: AsyncConnection, log_id: int) -> list[Entry]:
    """What the report reads: the kind, whether the decider was known and the wait. No text, no names."""
    rows = (await conn.execute(sa.select(stuck_entries.c.kind, stuck_entries.c.knew, stuck_entries.c.waited)
                               .where(stuck_entries.c.log_id == log_id).order_by(stuck_entries.c.id))).all()
    return [Entry(row.kind, row.knew, row.waited) for row in rows]


async def entry_count(conn: AsyncConnection, log_id: int) -> int:
    return (await conn.execute(sa.select(sa.func.count()).select_from(stuck_entries)
                               .where(stuck_entries.c.log_id == log_id))).scalar_one()


async def mark_adopted(conn: AsyncConnection, log_id: int, now: datetime | None) -> bool:
    """Record that the log's proposal was adopted (`now`), or undo it (None). False when it already was:
    of two clicks racing, one adopts."""
    done = stuck_logs.c.adopted_at.is_(None) if now is not None else stuck_logs.c.adopted_at.is_not(None)
    result = await conn.execute(sa.update(stuck_logs).where(stuck_logs.c.id == log_id, done).values(adopted_at=now))
    return result.rowcount == 1


async def running_count(conn: AsyncConnection, channel_id: int) -> int | None:
    """The digest's line: the running log's count of stuck moments (team level), None when none runs.
    One statement."""
    return (await conn.execute(
        sa.select(sa.func.count(stuck_entries.c.id))
        .select_from(stuck_logs.outerjoin(stuck_entries, stuck_entries.c.log_id == stuck_logs.c.id))
        .where(stuck_logs.c.channel_id == channel_id, stuck_logs.c.state == RUNNING)
        .group_by(stuck_logs.c.id))).scalar_one_or_none()
