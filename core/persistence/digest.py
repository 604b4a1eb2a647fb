"""SQL of the digest, the channel settings and the home view.

Every figure comes from an aggregate statement (COUNT, COUNT DISTINCT, SUM over CASE) so a digest
costs the same handful of statements whether the channel has ten answers or a million. Week
buckets are computed in Python (DST-correct, in the channel's zone) and passed in as bounds, so
the SQL is the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.digest import (ACTIVE_WEEKS, DEFAULT_TZ, WORK_KINDS, DigestSchedule, FocusWeek, MeetingWeek, Participation,
                                RoundLine, Week)
from core.domain.refs import ChannelRef, Posted, WorkspaceRef
from core.domain.rounds import RoundStatus
from core.persistence.db import upsert
from core.persistence.tables import answers, channels, jobs, recipients, rounds, summaries, workspaces
from core.persistence.tables_digest import channel_settings
from core.persistence.tables_focus import focus_goals, focus_sessions, meeting_checks


@dataclass(frozen=True)
class ChannelContext:
    """A channel with what the digest needs to know about it."""

    channel_id: int
    workspace_id: int
    ref: ChannelRef
    tz: str  # the channel's zone, else the workspace's, else DEFAULT_TZ
    locale: str | None  # the channel's language, else the workspace's
    channel_tz: str | None  # as stored (None: inherits)
    channel_locale: str | None
    schedule: DigestSchedule


def _context_query():
    return (sa.select(channels.c.id, channels.c.workspace_id, channels.c.external_id, channels.c.tz,
                      channels.c.locale, workspaces.c.platform, workspaces.c.external_id.label("ws_external"),
                      workspaces.c.tz.label("ws_tz"), workspaces.c.locale.label("ws_locale"),
                      channel_settings.c.digest_enabled, channel_settings.c.digest_weekday,
                      channel_settings.c.digest_minute)
            .join(workspaces, workspaces.c.id == channels.c.workspace_id)
            .outerjoin(channel_settings, channel_settings.c.channel_id == channels.c.id))


def _context(row) -> ChannelContext:
    schedule = DigestSchedule() if row.digest_enabled is None else DigestSchedule(
        enabled=row.digest_enabled, weekday=row.digest_weekday,
        at=time(row.digest_minute // 60, row.digest_minute % 60))
    return ChannelContext(row.id, row.workspace_id,
                          ChannelRef(WorkspaceRef(row.platform, row.ws_external), row.external_id),
                          row.tz or row.ws_tz or DEFAULT_TZ, row.locale or row.ws_locale, row.tz, row.locale,
                          schedule)


async def channel_context(conn: AsyncConnection, channel_id: int) -> ChannelContext | None:
    row = (await conn.execute(_context_query().where(channels.c.id == channel_id))).one_or_none()
    return None if row is None else _context(row)


async def find_channel(conn: AsyncConnection, ref: ChannelRef) -> ChannelContext | None:
    row = (await conn.execute(_context_query().where(
        workspaces.c.platform == ref.workspace.platform, workspaces.c.external_id == ref.workspace.id,
        channels.c.external_id == ref.id))).one_or_none()
    return None if row is None else _context(row)


async def active_channels(conn: AsyncConnection, since: datetime) -> list[ChannelContext]:
    """Channels that get a digest: a round shared there since `since`, or digest settings saved."""
    recent = sa.exists().where(rounds.c.channel_id == channels.c.id, rounds.c.created_at >= since)
    rows = (await conn.execute(_context_query().where(
        sa.or_(recent, channel_settings.c.channel_id.is_not(None))).order_by(channels.c.id))).all()
    return [context for context in map(_context, rows) if context.schedule.enabled]


async def save_channel_settings(conn: AsyncConnection, channel_id: int, schedule: DigestSchedule, *,
                                tz: str | None, locale: str | None, now: datetime) -> None:
    values = {"digest_enabled": schedule.enabled, "digest_weekday": schedule.weekday,
              "digest_minute": schedule.at.hour * 60 + schedule.at.minute, "updated_at": now}
    await conn.execute(upsert(conn, channel_settings).values(channel_id=channel_id, **values)
                       .on_conflict_do_update(index_elements=["channel_id"], set_=values))
    await conn.execute(sa.update(channels).where(channels.c.id == channel_id).values(tz=tz, locale=locale))


async def job_status(conn: AsyncConnection, key: str) -> str | None:
    return (await conn.execute(sa.select(jobs.c.status).where(jobs.c.key == key))).scalar_one_or_none()


# --- the digest's figures --------------------------------------------------------------------------
_LISTED = (RoundStatus.OPEN, RoundStatus.CLOSED)


def _answer_count():
    return (sa.select(sa.func.count()).select_from(answers).where(answers.c.round_id == rounds.c.id)
            .scalar_subquery())


def _round_line(row) -> RoundLine:
    post = Posted(row.post_conversation, row.post_id) if row.post_id else None
    return RoundLine(row.id, row.title, post, row.answered, row.asked, row.deadline_at, row.created_at,
                     row.closed_at, row.headline)


async def week_rounds(conn: AsyncConnection, channel_id: int, week: Week) -> list[tuple[str, RoundLine]]:
    """The rounds a digest mentions — opened or closed in the week, or still open — with their
    answer counts and headlines, in one statement. Returns (status, line) pairs, oldest first."""
    statement = (
        sa.select(rounds.c.id, rounds.c.title, rounds.c.status, rounds.c.post_conversation, rounds.c.post_id,
                  rounds.c.asked, rounds.c.deadline_at, rounds.c.created_at, rounds.c.closed_at,
                  summaries.c.headline, _answer_count().label("answered"))
        .outerjoin(summaries, summaries.c.round_id == rounds.c.id)
        .where(rounds.c.channel_id == channel_id, rounds.c.status.in_(_LISTED),
               sa.or_(sa.and_(rounds.c.created_at >= week.start, rounds.c.created_at < week.end),
                      sa.and_(rounds.c.closed_at >= week.start, rounds.c.closed_at < week.end),
                      rounds.c.status == RoundStatus.OPEN))
        .order_by(rounds.c.created_at, rounds.c.id))
    return [(row.status, _round_line(row)) for row in (await conn.execute(statement)).all()]


async def participation(conn: AsyncConnection, channel_id: int, week: Week) -> Participation:
    """Answers given in the week, how many people gave them, and how many were asked in the rounds
    running that week — counts only, one statement."""
    in_week = sa.and_(answers.c.created_at >= week.start, answers.c.created_at < week.end)
    channel_answers = (sa.select(answers.c.member_id).join(rounds, rounds.c.id == answers.c.round_id)
                       .where(rounds.c.channel_id == channel_id, in_week).subquery())
    running = sa.and_(rounds.c.channel_id == channel_id, rounds.c.status.in_(_LISTED),
                      rounds.c.created_at < week.end,
                      sa.or_(rounds.c.closed_at.is_(None), rounds.c.closed_at >= week.start))
    asked = (sa.select(sa.func.count(sa.distinct(recipients.c.member_id)))
             .join(rounds, rounds.c.id == recipients.c.round_id)
             .where(running, recipients.c.unreachable.is_(None)).scalar_subquery())
    row = (await conn.execute(sa.select(sa.func.count(channel_answers.c.member_id),
                                        sa.func.count(sa.distinct(channel_answers.c.member_id)),
                                        asked))).one()
    return Participation(answers=row[0], answerers=row[1], asked=row[2])


async def answers_per_week(conn: AsyncConnection, channel_id: int, weeks: list[Week]) -> list[int]:
    """Answers given in each of `weeks`, one statement (a SUM(CASE) column per week)."""
    columns = [sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(answers.c.created_at >= w.start, answers.c.created_at < w.end), 1), else_=0)), 0)
        for w in weeks]
    row = (await conn.execute(
        sa.select(*columns).select_from(answers).join(rounds, rounds.c.id == answers.c.round_id)
        .where(rounds.c.channel_id == channel_id, answers.c.created_at >= weeks[0].start,
               answers.c.created_at < weeks[-1].end))).one()
    return [int(value) for value in row]


# --- the home view ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToAnswer:
    round_id: int
    title: str
    deadline_at: datetime
    channel: str  # the channel's platform id


async def rounds_to_answer(conn: AsyncConnection, member_id: int, now: datetime, *,
                           limit: int) -> tuple[list[ToAnswer], int]:
    """A person's open rounds they have not answered yet (soonest deadline first, at most `limit`)
    and how many there are in all — one statement (a window count)."""
    answered = sa.exists().where(answers.c.round_id == rounds.c.id, answers.c.member_id == member_id)
    total = sa.func.count().over().label("total")
    rows = (await conn.execute(
        sa.select(rounds.c.id, rounds.c.title, rounds.c.deadline_at, channels.c.external_id, total)
        .join(recipients, recipients.c.round_id == rounds.c.id)
        .join(channels, channels.c.id == rounds.c.channel_id)
        .where(recipients.c.member_id == member_id, rounds.c.status == RoundStatus.OPEN,
               rounds.c.deadline_at > now, ~answered)
        .order_by(rounds.c.deadline_at, rounds.c.id).limit(limit))).all()
    items = [ToAnswer(row.id, row.title, row.deadline_at, row.external_id) for row in rows]
    return items, (rows[0].total if rows else 0)



# --- focus time and meeting checks (the focus feature's tables) ------------------------------------
def _team(channel_id: int, before: datetime):
    """The channel's team: everyone asked in, or who shared, one of its rounds of the ACTIVE_WEEKS
    before `before`. Focus time and meeting checks are recorded per person, not per channel, so this
    is who a channel's figures cover."""
    recent = sa.and_(rounds.c.channel_id == channel_id, rounds.c.created_at < before,
                     rounds.c.created_at >= before - timedelta(weeks=ACTIVE_WEEKS))
    asked = sa.select(recipients.c.member_id.label("member_id")).join(
        rounds, rounds.c.id == recipients.c.round_id).where(recent)
    authors = sa.select(rounds.c.author_id.label("member_id")).where(recent)
    return sa.select(sa.union(asked, authors).subquery().c.member_id)


def _minutes(conn: AsyncConnection, end, start):
    """Minutes between two stored instants (naive UTC on both backends)."""
    if conn.dialect.name == "postgresql":
        return sa.func.extract("epoch", end - start) / 60.0
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 1440.0


def _session_minutes(conn: AsyncConnection, now: datetime):
    """A session's minutes: to its end, or to `now` while it is still running."""
    end = sa.func.coalesce(focus_sessions.c.ended_at, focus_sessions.c.ends_at)
    return _minutes(conn, sa.case((end > now, now), else_=end), focus_sessions.c.started_at)


async def focus_week(conn: AsyncConnection, channel_id: int, workspace_id: int, week: Week, now: datetime,
                     default_goal_minutes: int) -> FocusWeek | None:
    """The team's focus minutes by kind and how many people reached their goal (their own, else the
    workspace's, else the default) — one statement. A session counts in the week it started."""
    minutes = _session_minutes(conn, now)
    per_person = (
        sa.select(focus_sessions.c.member_id, sa.func.sum(minutes).label("total"),
                  *[sa.func.sum(sa.case((focus_sessions.c.category == kind, minutes), else_=0)).label(kind)
                    for kind in WORK_KINDS])
        .where(focus_sessions.c.member_id.in_(_team(channel_id, week.end)),
               focus_sessions.c.started_at >= week.start, focus_sessions.c.started_at < week.end)
        .group_by(focus_sessions.c.member_id).subquery())
    own, workspace = focus_goals.alias("own"), focus_goals.alias("ws")
    goal = sa.func.coalesce(own.c.weekly_minutes, workspace.c.weekly_minutes, default_goal_minutes)
    row = (await conn.execute(
        sa.select(sa.func.count(), sa.func.sum(per_person.c.total),
                  sa.func.sum(sa.case((per_person.c.total >= goal, 1), else_=0)),
                  *[sa.func.sum(per_person.c[kind]) for kind in WORK_KINDS])
        .select_from(per_person)
        .outerjoin(own, own.c.member_id == per_person.c.member_id)
        .outerjoin(workspace, sa.and_(workspace.c.workspace_id == workspace_id, workspace.c.member_id.is_(None))))
    ).one()
    people, total, reached, *kinds = row
    if not people:
        return None
    return FocusWeek(hours=round(float(total) / 60, 1), people=people, reached_goal=int(reached),
                     mix={k: round(float(v or 0) / 60, 1) for k, v in zip(WORK_KINDS, kinds)})


async def focus_per_week(conn: AsyncConnection, channel_id: int, weeks: list[Week],
                         now: datetime) -> list[dict[str, float]]:
    """The team's focus hours by kind in each of `weeks`, one statement."""
    minutes = _session_minutes(conn, now)
    columns = [sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(focus_sessions.c.started_at >= w.start, focus_sessions.c.started_at < w.end,
                 focus_sessions.c.category == kind), minutes), else_=0)), 0)
        for w in weeks for kind in WORK_KINDS]
    row = (await conn.execute(sa.select(*columns).where(
        focus_sessions.c.member_id.in_(_team(channel_id, weeks[-1].end)),
        focus_sessions.c.started_at >= weeks[0].start, focus_sessions.c.started_at < weeks[-1].end))).one()
    values = [round(float(v) / 60, 1) for v in row]
    return [dict(zip(WORK_KINDS, values[i:i + len(WORK_KINDS)])) for i in range(0, len(values), len(WORK_KINDS))]


async def meeting_week(conn: AsyncConnection, channel_id: int, week: Week) -> MeetingWeek | None:
    """Meeting checks the team ran in the week; "went async" when a round was started instead of the
    meeting, and the person-hours of those meetings (per month for recurring ones) were given back —
    the same counting as the meeting-check feature's own figures. One statement."""
    went_async = meeting_checks.c.converted_at.is_not(None)
    hours = sa.func.coalesce(meeting_checks.c.monthly_person_hours, meeting_checks.c.person_hours)
    row = (await conn.execute(
        sa.select(sa.func.count(), sa.func.sum(sa.case((went_async, 1), else_=0)),
                  sa.func.sum(sa.case((went_async, hours), else_=0.0)))
        .where(meeting_checks.c.member_id.in_(_team(channel_id, week.end)),
               meeting_checks.c.created_at >= week.start, meeting_checks.c.created_at < week.end))).one()
    if not row[0]:
        return None
    return MeetingWeek(checks=row[0], went_async=int(row[1]), hours_given_back=round(float(row[2]), 1))


async def person_focus_minutes(conn: AsyncConnection, member_id: int, week: Week, now: datetime) -> float:
    minutes = _session_minutes(conn, now)
    return float((await conn.execute(sa.select(sa.func.coalesce(sa.func.sum(minutes), 0)).where(
        focus_sessions.c.member_id == member_id, focus_sessions.c.started_at >= week.start,
        focus_sessions.c.started_at < week.end))).scalar_one())


async def recent_checks(conn: AsyncConnection, member_id: int, *, limit: int) -> list[tuple[str, str, bool]]:
    """A person's latest meeting checks: (agenda, verdict, became an async round)."""
    rows = (await conn.execute(
        sa.select(meeting_checks.c.agenda, meeting_checks.c.verdict, meeting_checks.c.converted_at.is_not(None))
        .where(meeting_checks.c.member_id == member_id)
        .order_by(meeting_checks.c.created_at.desc(), meeting_checks.c.id.desc()).limit(limit))).all()
    return [(agenda.splitlines()[0][:150] if agenda else "", verdict, bool(converted))
            for agenda, verdict, converted in rows]
