"""All SQL of the Driver's Seat: a person's runs, the days of a run (tasks, ratings, skips), the share
with a coach, the coach's feedback, and the team's figures for its digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.digest import Week
from core.persistence.db import upsert
from core.persistence.digest import _team as team_of
from core.persistence.tables import members
from core.persistence.tables_drivers_seat import seat_days, seat_feedback, seat_runs, seat_shares


@dataclass(frozen=True)
class RunRow:
    id: int
    workspace_id: int
    member_id: int
    days: int
    first_day: date
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None

    @property
    def current(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class Task:
    kind: str
    text: str
    rating: str | None = None
    why: str | None = None


@dataclass(frozen=True)
class DayRow:
    id: int
    run_id: int
    day: date
    skipped: bool
    tasks: tuple[Task, ...]
    planned_at: datetime | None
    rated_at: datetime | None


def _run(row) -> RunRow:
    return RunRow(row.id, row.workspace_id, row.member_id, row.days, row.first_day, row.started_at, row.ended_at,
                  row.end_reason)


def _day(row) -> DayRow:
    tasks = tuple(Task(t["kind"], t["text"], t.get("rating"), t.get("why")) for t in row.tasks or ())
    return DayRow(row.id, row.run_id, row.day, row.skipped, tasks, row.planned_at, row.rated_at)


def _tasks_json(tasks: tuple[Task, ...]) -> list[dict]:
    return [{"kind": t.kind, "text": t.text, "rating": t.rating, "why": t.why} for t in tasks]


async def get_run(conn: AsyncConnection, run_id: int) -> RunRow | None:
    row = (await conn.execute(sa.select(seat_runs).where(seat_runs.c.id == run_id))).one_or_none()
    return None if row is None else _run(row)


async def current_run(conn: AsyncConnection, member_id: int) -> RunRow | None:
    row = (await conn.execute(sa.select(seat_runs).where(
        seat_runs.c.member_id == member_id, seat_runs.c.ended_at.is_(None)))).one_or_none()
    return None if row is None else _run(row)


async def last_run(conn: AsyncConnection, member_id: int) -> RunRow | None:
    row = (await conn.execute(sa.select(seat_runs).where(seat_runs.c.member_id == member_id)
                              .order_by(seat_runs.c.started_at.desc(), seat_runs.c.id.desc()).limit(1))).one_or_none()
    return None if row is None else _run(row)


async def hold_person(conn: AsyncConnection, member_id: int) -> None:
    """Starts of one person's run one after the other (PostgreSQL: the member row is locked)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(sa.select(members.c.id).where(members.c.id == member_id).with_for_update())


async def start_run(conn: AsyncConnection, *, workspace_id: int, member_id: int, days: int, first_day: date,
                    now: datetime) -> int:
    """A new current run (the unique index on the current one guards "one per person")."""
    return (await conn.execute(sa.insert(seat_runs).values(
        workspace_id=workspace_id, member_id=member_id, days=days, first_day=first_day, started_at=now)
        .returning(seat_runs.c.id))).scalar_one()


async def end_run(conn: AsyncConnection, run_id: int, *, reason: str, now: datetime) -> bool:
    """Ends a current run; False when it had ended already."""
    result = await conn.execute(sa.update(seat_runs).where(seat_runs.c.id == run_id, seat_runs.c.ended_at.is_(None))
                                .values(ended_at=now, end_reason=reason))
    return result.rowcount == 1


async def days_of(conn: AsyncConnection, run_id: int) -> list[DayRow]:
    rows = (await conn.execute(sa.select(seat_days).where(seat_days.c.run_id == run_id)
                               .order_by(seat_days.c.day))).all()
    return [_day(row) for row in rows]


async def get_day(conn: AsyncConnection, run_id: int, day: date) -> DayRow | None:
    row = (await conn.execute(sa.select(seat_days).where(seat_days.c.run_id == run_id,
                                                         seat_days.c.day == day))).one_or_none()
    return None if row is None else _day(row)


async def skip_day(conn: AsyncConnection, run: RunRow, day: date) -> None:
    await conn.execute(upsert(conn, seat_days).values(run_id=run.id, member_id=run.member_id, day=day, skipped=True)
                       .on_conflict_do_update(index_elements=[seat_days.c.run_id, seat_days.c.day],
                                              set_={"skipped": True}))


async def save_tasks(conn: AsyncConnection, run: RunRow, day: date, tasks: tuple[Task, ...], now: datetime) -> None:
    """The morning's three tasks (saving again changes them; a skipped day is counted again)."""
    values = {"tasks": _tasks_json(tasks), "planned_at": now, "skipped": False}
    await conn.execute(upsert(conn, seat_days).values(run_id=run.id, member_id=run.member_id, day=day, **values)
                       .on_conflict_do_update(index_elements=[seat_days.c.run_id, seat_days.c.day], set_=values))


async def save_ratings(conn: AsyncConnection, day_id: int, tasks: tuple[Task, ...], now: datetime) -> None:
    await conn.execute(sa.update(seat_days).where(seat_days.c.id == day_id)
                       .values(tasks=_tasks_json(tasks), rated_at=now))


# --- the coach -----------------------------------------------------------------------------------------
async def coach_of(conn: AsyncConnection, run_id: int) -> int | None:
    return (await conn.execute(sa.select(seat_shares.c.coach_id).where(
        seat_shares.c.run_id == run_id, seat_shares.c.revoked_at.is_(None)))).scalar_one_or_none()


async def share(conn: AsyncConnection, run_id: int, coach_id: int, now: datetime) -> None:
    """The run is shared with this one person (a share with someone else before is revoked)."""
    await revoke(conn, run_id, now)
    await conn.execute(sa.insert(seat_shares).values(run_id=run_id, coach_id=coach_id, shared_at=now))


async def revoke(conn: AsyncConnection, run_id: int, now: datetime) -> bool:
    result = await conn.execute(sa.update(seat_shares).where(
        seat_shares.c.run_id == run_id, seat_shares.c.revoked_at.is_(None)).values(revoked_at=now))
    return result.rowcount > 0


async def add_feedback(conn: AsyncConnection, run_id: int, coach_id: int, text: str, now: datetime) -> int:
    return (await conn.execute(sa.insert(seat_feedback).values(run_id=run_id, coach_id=coach_id, text=text, sent_at=now)
                               .returning(seat_feedback.c.id))).scalar_one()


async def get_feedback(conn: AsyncConnection, feedback_id: int) -> tuple[int, int, str] | None:
    """(run, coach, text) of one feedback."""
    row = (await conn.execute(sa.select(seat_feedback.c.run_id, seat_feedback.c.coach_id, seat_feedback.c.text)
                              .where(seat_feedback.c.id == feedback_id))).one_or_none()
    return None if row is None else (row.run_id, row.coach_id, row.text)


# --- the digest ----------------------------------------------------------------------------------------
async def team_week(conn: AsyncConnection, channel_id: int, week: Week, now: datetime
                    ) -> tuple[int, list[tuple[str, str]]]:
    """The channel's team's Driver's Seat days of this week (by the day they are about): how many people
    rated one, and every (kind, rating) they gave. No names, no texts."""
    rows = (await conn.execute(sa.select(seat_days.c.member_id, seat_days.c.tasks).where(
        seat_days.c.member_id.in_(team_of(channel_id, min(now, week.end))), seat_days.c.rated_at.is_not(None),
        seat_days.c.day >= week.first_day, seat_days.c.day < week.first_day + timedelta(days=7)))).all()
    rated = [(t["kind"], t["rating"]) for row in rows for t in row.tasks or () if t.get("rating")]
    return len({row.member_id for row in rows}), rated
