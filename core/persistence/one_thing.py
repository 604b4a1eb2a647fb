"""All SQL of The One Thing: a person's current one, their history, the check's answer, and the
shared ones of a team for its digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.persistence.digest import _team as team_of
from core.persistence.tables import members
from core.persistence.tables_one_thing import one_things


@dataclass(frozen=True)
class OneThingRow:
    id: int
    member_id: int
    text: str
    shared: bool
    recorded_at: datetime
    replaced_at: datetime | None
    check_answer: str | None
    check_note: str | None
    checked_at: datetime | None

    @property
    def current(self) -> bool:
        return self.replaced_at is None


def _row(row) -> OneThingRow:
    return OneThingRow(row.id, row.member_id, row.text, row.shared, row.recorded_at, row.replaced_at,
                       row.check_answer, row.check_note, row.checked_at)


async def get(conn: AsyncConnection, one_thing_id: int) -> OneThingRow | None:
    row = (await conn.execute(sa.select(one_things).where(one_things.c.id == one_thing_id))).one_or_none()
    return None if row is None else _row(row)


async def current(conn: AsyncConnection, member_id: int) -> OneThingRow | None:
    row = (await conn.execute(sa.select(one_things).where(
        one_things.c.member_id == member_id, one_things.c.replaced_at.is_(None)))).one_or_none()
    return None if row is None else _row(row)


async def history(conn: AsyncConnection, member_id: int, *, limit: int) -> list[OneThingRow]:
    """The replaced ones, newest first."""
    rows = (await conn.execute(sa.select(one_things).where(
        one_things.c.member_id == member_id, one_things.c.replaced_at.is_not(None))
        .order_by(one_things.c.recorded_at.desc(), one_things.c.id.desc()).limit(limit))).all()
    return [_row(row) for row in rows]


async def hold_person(conn: AsyncConnection, member_id: int) -> None:
    """Saves of one person's One Thing one after the other: on PostgreSQL the member row is locked until
    the transaction ends (SQLite lets one writer at a time anyway)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(members.c.id).where(members.c.id == member_id).with_for_update())


async def replace_current(conn: AsyncConnection, *, workspace_id: int, member_id: int, text: str, shared: bool,
                          now: datetime) -> int:
    """The current One Thing (if any) becomes history; this one is current. Returns its id. (The unique
    index on the current one guards the rule "one per person" whatever happens; `hold_person` first.)"""
    await conn.execute(sa.update(one_things).where(
        one_things.c.member_id == member_id, one_things.c.replaced_at.is_(None)).values(replaced_at=now))
    return (await conn.execute(sa.insert(one_things).values(
        workspace_id=workspace_id, member_id=member_id, text=text, shared=shared, recorded_at=now)
        .returning(one_things.c.id))).scalar_one()


async def set_shared(conn: AsyncConnection, one_thing_id: int, shared: bool) -> None:
    await conn.execute(sa.update(one_things).where(one_things.c.id == one_thing_id).values(shared=shared))


async def record_check(conn: AsyncConnection, one_thing_id: int, *, answer: str, note: str, now: datetime) -> None:
    """The answer to "Still doing it?" (a later answer replaces an earlier one: one row, one answer)."""
    await conn.execute(sa.update(one_things).where(one_things.c.id == one_thing_id)
                       .values(check_answer=answer, check_note=note or None, checked_at=now))


async def shared_for_team(conn: AsyncConnection, channel_id: int, moment: datetime) -> list[str]:
    """The texts of the shared One Things that the channel's team had as their current one at `moment`,
    in the order they were recorded (a list, not a ranking)."""
    rows = (await conn.execute(
        sa.select(one_things.c.text)
        .where(one_things.c.member_id.in_(team_of(channel_id, moment)), one_things.c.shared.is_(True),
               one_things.c.recorded_at < moment,
               sa.or_(one_things.c.replaced_at.is_(None), one_things.c.replaced_at >= moment))
        .order_by(one_things.c.recorded_at, one_things.c.id))).scalars().all()
    return list(rows)
