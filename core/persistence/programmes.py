"""All SQL of programmes and completions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.persistence.db import upsert
from core.persistence.tables import channels, members
from core.persistence.tables_agreements import agreement_versions
from core.persistence.tables_drivers_seat import seat_runs, seat_shares
from core.persistence.tables_one_thing import one_things
from core.persistence.tables_programmes import (completions, programme_assignments, programme_participants,
                                                programme_sessions, programmes)


@dataclass(frozen=True)
class ProgrammeRow:
    id: int
    workspace_id: int
    coach_id: int
    channel_external_id: str | None
    name: str
    template: str
    locale: str
    copied_from: int | None
    created_at: datetime


@dataclass(frozen=True)
class AssignmentRow:
    id: int
    programme_id: int
    position: int
    kind: str
    title: str
    titles: dict | None  # the template's, per language, while the coach kept its wording
    how: dict
    start: str | None
    opens_after: int
    due_before: int

    def title_in(self, language: str) -> str:
        return (self.titles or {}).get(language) or self.title

    def how_in(self, language: str) -> str:
        return self.how.get(language) or self.how.get("en") or ""


def _assignment(r) -> "AssignmentRow":
    return AssignmentRow(r.id, r.programme_id, r.position, r.kind, r.title, r.titles, r.how or {}, r.start,
                         r.opens_after, r.due_before)


@dataclass(frozen=True)
class Participant:
    member_id: int
    external_id: str
    name: str | None


# --- completions ---------------------------------------------------------------------------------------
async def add_completion(conn: AsyncConnection, *, workspace_id: int, member_id: int, kind: str, ref: str,
                         at: datetime) -> None:
    """Once per person, kind and thing done: announcing it again keeps the first moment."""
    await conn.execute(upsert(conn, completions).values(workspace_id=workspace_id, member_id=member_id, kind=kind,
                                                        ref=ref, at=at).on_conflict_do_nothing())


async def first_completions(conn: AsyncConnection, member_ids: list[int], kinds: set[str],
                            since: datetime) -> dict[tuple[int, str], tuple[datetime, str]]:
    """(person, kind) -> the first completion at or after `since` (its moment and ref)."""
    if not member_ids or not kinds:
        return {}
    rows = (await conn.execute(
        sa.select(completions.c.member_id, completions.c.kind, completions.c.at, completions.c.ref)
        .where(completions.c.member_id.in_(member_ids), completions.c.kind.in_(kinds), completions.c.at >= since)
        .order_by(completions.c.at, completions.c.id))).all()
    first: dict[tuple[int, str], tuple[datetime, str]] = {}
    for row in rows:
        first.setdefault((row.member_id, row.kind), (row.at, row.ref))
    return first


async def completed_since(conn: AsyncConnection, member_id: int, kind: str, since: datetime) -> bool:
    return (await conn.execute(sa.select(completions.c.id).where(
        completions.c.member_id == member_id, completions.c.kind == kind, completions.c.at >= since)
        .limit(1))).first() is not None


# --- programmes ----------------------------------------------------------------------------------------
_PROGRAMME = sa.select(programmes, channels.c.external_id.label("channel_external_id")).outerjoin(
    channels, channels.c.id == programmes.c.channel_id)


def _programme(row) -> ProgrammeRow:
    return ProgrammeRow(row.id, row.workspace_id, row.coach_id, row.channel_external_id, row.name, row.template,
                        row.locale, row.copied_from, row.created_at)


async def create(conn: AsyncConnection, *, workspace_id: int, coach_id: int, channel_id: int, name: str,
                 template: str, locale: str, copied_from: int | None, sessions: list[datetime],
                 assignments: list[dict], now: datetime) -> int:
    programme_id = (await conn.execute(sa.insert(programmes).values(
        workspace_id=workspace_id, coach_id=coach_id, channel_id=channel_id, name=name, template=template,
        locale=locale, copied_from=copied_from, created_at=now).returning(programmes.c.id))).scalar_one()
    await conn.execute(sa.insert(programme_sessions), [
        {"programme_id": programme_id, "number": number, "starts_at": at} for number, at in enumerate(sessions, 1)])
    await conn.execute(sa.insert(programme_assignments), [
        {"programme_id": programme_id, "position": position, **a} for position, a in enumerate(assignments)])
    return programme_id


async def get(conn: AsyncConnection, programme_id: int) -> ProgrammeRow | None:
    row = (await conn.execute(_PROGRAMME.where(programmes.c.id == programme_id))).one_or_none()
    return None if row is None else _programme(row)


async def coached_by(conn: AsyncConnection, coach_id: int) -> list[ProgrammeRow]:
    """The coach's programmes, newest first."""
    rows = (await conn.execute(_PROGRAMME.where(programmes.c.coach_id == coach_id)
                               .order_by(programmes.c.created_at.desc(), programmes.c.id.desc()))).all()
    return [_programme(row) for row in rows]


async def joined_by(conn: AsyncConnection, member_id: int) -> list[ProgrammeRow]:
    rows = (await conn.execute(_PROGRAMME.join(
        programme_participants, programme_participants.c.programme_id == programmes.c.id)
        .where(programme_participants.c.member_id == member_id, programme_participants.c.removed_at.is_(None))
        .order_by(programmes.c.created_at.desc(), programmes.c.id.desc()))).all()
    return [_programme(row) for row in rows]


async def sessions(conn: AsyncConnection, programme_id: int) -> list[datetime]:
    return list((await conn.execute(sa.select(programme_sessions.c.starts_at).where(
        programme_sessions.c.programme_id == programme_id).order_by(programme_sessions.c.number))).scalars())


async def assignments(conn: AsyncConnection, programme_id: int) -> list[AssignmentRow]:
    rows = (await conn.execute(sa.select(programme_assignments).where(
        programme_assignments.c.programme_id == programme_id).order_by(programme_assignments.c.position))).all()
    return [_assignment(r) for r in rows]


async def get_assignment(conn: AsyncConnection, assignment_id: int) -> AssignmentRow | None:
    row = (await conn.execute(sa.select(programme_assignments).where(
        programme_assignments.c.id == assignment_id))).one_or_none()
    return None if row is None else _assignment(row)


async def add_participants(conn: AsyncConnection, programme_id: int, member_ids: list[int], now: datetime) -> None:
    if member_ids:
        await conn.execute(upsert(conn, programme_participants).on_conflict_do_nothing(), [
            {"programme_id": programme_id, "member_id": m, "joined_at": now} for m in member_ids])


async def coach_homes(conn: AsyncConnection, member_id: int) -> list[int]:
    """The coaches of the programmes the person is in who opened their Home."""
    coaches = sa.select(programmes.c.coach_id).join(
        programme_participants, programme_participants.c.programme_id == programmes.c.id).where(
        programme_participants.c.member_id == member_id, programme_participants.c.removed_at.is_(None))
    return list((await conn.execute(sa.select(members.c.id).where(
        members.c.id.in_(coaches), members.c.home_opened_at.is_not(None))
        .order_by(members.c.id))).scalars())


async def ever_in(conn: AsyncConnection, programme_id: int) -> set[int]:
    """Everyone who was ever in the cohort, those the coach took out included."""
    return set((await conn.execute(sa.select(programme_participants.c.member_id).where(
        programme_participants.c.programme_id == programme_id))).scalars())


async def participants(conn: AsyncConnection, programme_id: int) -> list[Participant]:
    rows = (await conn.execute(
        sa.select(members.c.id, members.c.external_id, members.c.name)
        .join(programme_participants, programme_participants.c.member_id == members.c.id)
        .where(programme_participants.c.programme_id == programme_id, programme_participants.c.removed_at.is_(None))
        .order_by(sa.func.lower(sa.func.coalesce(members.c.name, members.c.external_id)), members.c.id))).all()
    return [Participant(r.id, r.external_id, r.name) for r in rows]


async def is_participant(conn: AsyncConnection, programme_id: int, member_id: int) -> bool:
    return (await conn.execute(sa.select(programme_participants.c.member_id).where(
        programme_participants.c.programme_id == programme_id,
        programme_participants.c.member_id == member_id,
        programme_participants.c.removed_at.is_(None)))).first() is not None


async def remove_participant(conn: AsyncConnection, programme_id: int, member_id: int, now: datetime) -> bool:
    """False when they were not (or no longer) in it."""
    result = await conn.execute(sa.update(programme_participants).where(
        programme_participants.c.programme_id == programme_id, programme_participants.c.member_id == member_id,
        programme_participants.c.removed_at.is_(None)).values(removed_at=now))
    return result.rowcount == 1


@dataclass(frozen=True)
class Shared:
    """What a cohort shared with its coach: Driver's Seat runs shared with them, One Things shared with
    the team, and the agreements they published (each agreement's latest version)."""

    run_ids: tuple[int, ...]
    one_things: tuple[str, ...]
    agreements: tuple[dict, ...]


async def shared_with_coach(conn: AsyncConnection, coach_id: int, member_ids: list[int], since: datetime) -> Shared:
    if not member_ids:
        return Shared((), (), ())
    runs = (await conn.execute(sa.select(seat_runs.c.id).join(seat_shares, seat_shares.c.run_id == seat_runs.c.id)
                               .where(seat_shares.c.coach_id == coach_id, seat_shares.c.revoked_at.is_(None),
                                      seat_runs.c.member_id.in_(member_ids), seat_runs.c.started_at >= since)
                               .order_by(seat_runs.c.id))).scalars().all()
    things = (await conn.execute(sa.select(one_things.c.text).where(
        one_things.c.member_id.in_(member_ids), one_things.c.shared.is_(True), one_things.c.replaced_at.is_(None))
        .order_by(one_things.c.id))).scalars().all()
    latest = sa.select(agreement_versions.c.agreement_id, sa.func.max(agreement_versions.c.version).label("version")) \
        .where(agreement_versions.c.published_by.in_(member_ids), agreement_versions.c.published_at >= since) \
        .group_by(agreement_versions.c.agreement_id).subquery()
    contents = (await conn.execute(sa.select(agreement_versions.c.content).join(latest, sa.and_(
        agreement_versions.c.agreement_id == latest.c.agreement_id, agreement_versions.c.version == latest.c.version))
        .order_by(agreement_versions.c.agreement_id))).scalars().all()
    return Shared(tuple(runs), tuple(things), tuple(contents))


async def runs_shared_with(conn: AsyncConnection, coach_id: int, run_ids: list[int]) -> set[int]:
    """Of these Driver's Seat runs, the ones currently shared with this coach."""
    if not run_ids:
        return set()
    return set((await conn.execute(sa.select(seat_shares.c.run_id).join(seat_runs, seat_runs.c.id == seat_shares.c.run_id)
                                   .where(seat_shares.c.coach_id == coach_id, seat_shares.c.revoked_at.is_(None),
                                          seat_shares.c.run_id.in_(run_ids)))).scalars())
