"""Reads and writes for workspaces, people, channels, rounds and answers. All SQL for these lives here."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.refs import ChannelRef, PersonRef, Posted, WorkspaceRef
from core.persistence.db import upsert
from core.persistence.tables import (answers, channels, members, recipients, rounds, seen_events, summaries,
                                     workspaces)


@dataclass(frozen=True)
class WorkspaceRow:
    id: int
    ref: WorkspaceRef
    name: str
    locale: str | None
    tz: str | None


@dataclass(frozen=True)
class MemberRow:
    id: int
    workspace_id: int
    ref: PersonRef
    name: str
    locale: str | None
    tz: str | None  # the person's zone, else their workspace's (Teams tells a zone only once they write)
    is_bot: bool
    deleted: bool
    unreachable: str | None
    refreshed_at: datetime | None = None
    workspace_locale: str | None = None  # the workspace's language, the fallback for the person's
    home_opened_at: datetime | None = None  # when they first opened their Home (None: never)


@dataclass(frozen=True)
class RoundRow:
    id: int
    workspace: WorkspaceRow
    channel: ChannelRef
    channel_id: int
    author: MemberRow
    title: str
    link: str
    body: str
    questions: tuple[str, ...]
    share_mode: str
    locale: str
    status: str
    deadline_at: datetime
    created_at: datetime
    closed_at: datetime | None
    post: Posted | None
    asked: int


@dataclass(frozen=True)
class AnswerRow:
    id: int
    round_id: int
    member: MemberRow
    texts: tuple[str, ...]
    version: int
    updated_at: datetime
    reply: Posted | None


# --- workspaces, members, channels ----------------------------------------------------------------
async def ensure_workspace(conn: AsyncConnection, ref: WorkspaceRef, *, now: datetime, name: str | None = None,
                           locale: str | None = None, tz: str | None = None) -> int:
    statement = upsert(conn, workspaces).values(platform=ref.platform, external_id=ref.id, name=name or "",
                                                locale=locale, tz=tz, created_at=now)
    updates = {k: v for k, v in {"name": name, "locale": locale, "tz": tz}.items() if v}
    if updates:
        statement = statement.on_conflict_do_update(index_elements=["platform", "external_id"], set_=updates)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["platform", "external_id"])
    await conn.execute(statement)
    return (await conn.execute(sa.select(workspaces.c.id).where(
        workspaces.c.platform == ref.platform, workspaces.c.external_id == ref.id))).scalar_one()


async def adopt_zone(conn: AsyncConnection, workspace_id: int, tz: str) -> None:
    """A workspace without a time zone takes this one: the first a person's client told (Teams). It is
    the zone of its people whose own zone isn't known yet, better than UTC for a team in one place."""
    await conn.execute(sa.update(workspaces).where(workspaces.c.id == workspace_id, workspaces.c.tz.is_(None))
                       .values(tz=tz))


async def get_workspace(conn: AsyncConnection, workspace_id: int) -> WorkspaceRow:
    row = (await conn.execute(sa.select(workspaces).where(workspaces.c.id == workspace_id))).one()
    return _workspace(row)


async def mark_uninstalled(conn: AsyncConnection, workspace_id: int, now: datetime) -> None:
    """Remember when the app was removed (the first time: a repeated event keeps the date)."""
    await conn.execute(sa.update(workspaces).where(workspaces.c.id == workspace_id,
                                                   workspaces.c.uninstalled_at.is_(None)).values(uninstalled_at=now))


async def mark_back(conn: AsyncConnection, ref: WorkspaceRef) -> bool:
    """The workspace uses the app again: forget its uninstall. True when it had one. Reads first, so
    the usual case (never uninstalled) writes nothing."""
    where = (workspaces.c.platform == ref.platform, workspaces.c.external_id == ref.id,
             workspaces.c.uninstalled_at.is_not(None))
    if (await conn.execute(sa.select(workspaces.c.id).where(*where))).first() is None:
        return False
    return (await conn.execute(sa.update(workspaces).where(*where).values(uninstalled_at=None))).rowcount == 1


def _workspace(row) -> WorkspaceRow:
    return WorkspaceRow(row.id, WorkspaceRef(row.platform, row.external_id), row.name, row.locale, row.tz)


async def ensure_member(conn: AsyncConnection, workspace_id: int, external_id: str, *, now: datetime | None = None,
                        name: str | None = None, locale: str | None = None, tz: str | None = None,
                        is_bot: bool | None = None, deleted: bool | None = None) -> int:
    """Create or refresh a person. Only the facts given are changed; `now` marks a refresh from the
    platform's directory."""
    facts = {"name": name, "locale": locale, "tz": tz, "is_bot": is_bot, "deleted": deleted,
             "refreshed_at": now}
    facts = {k: v for k, v in facts.items() if v is not None}
    statement = upsert(conn, members).values(workspace_id=workspace_id, external_id=external_id,
                                             **{"name": "", **facts})
    if facts:
        statement = statement.on_conflict_do_update(index_elements=["workspace_id", "external_id"], set_=facts)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["workspace_id", "external_id"])
    await conn.execute(statement)
    return (await conn.execute(sa.select(members.c.id).where(
        members.c.workspace_id == workspace_id, members.c.external_id == external_id))).scalar_one()


async def ensure_members(conn: AsyncConnection, workspace_id: int, external_ids: list[str]) -> dict[str, int]:
    """Make sure these people exist (facts are filled in later, from the directory); their ids."""
    if external_ids:
        await conn.execute(upsert(conn, members).on_conflict_do_nothing(),
                           [{"workspace_id": workspace_id, "external_id": e, "name": ""} for e in external_ids])
    ids: dict[str, int] = {}
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start:start + 500]
        rows = await conn.execute(sa.select(members.c.external_id, members.c.id).where(
            members.c.workspace_id == workspace_id, members.c.external_id.in_(chunk)))
        ids.update(dict(rows.all()))
    return ids


async def ensure_channel(conn: AsyncConnection, workspace_id: int, external_id: str, *, name: str | None = None,
                         locale: str | None = None, tz: str | None = None) -> int:
    updates = {k: v for k, v in {"name": name, "locale": locale, "tz": tz}.items() if v}
    statement = upsert(conn, channels).values(workspace_id=workspace_id, external_id=external_id,
                                              **{"name": "", **updates})
    if updates:
        statement = statement.on_conflict_do_update(index_elements=["workspace_id", "external_id"], set_=updates)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["workspace_id", "external_id"])
    await conn.execute(statement)
    return (await conn.execute(sa.select(channels.c.id).where(
        channels.c.workspace_id == workspace_id, channels.c.external_id == external_id))).scalar_one()


# A person's zone, else their workspace's: Teams tells a zone only once the person writes (see
# remember_person in core/persistence/teams.py). Every query of these columns joins the workspace.
_member_tz = sa.func.coalesce(members.c.tz, workspaces.c.tz).label("tz")
_member_cols = [members.c.id, members.c.workspace_id, members.c.external_id, members.c.name, members.c.locale,
                _member_tz, members.c.is_bot, members.c.deleted, members.c.unreachable, members.c.refreshed_at,
                members.c.home_opened_at]


def _member(row, workspace: WorkspaceRef) -> MemberRow:
    return MemberRow(row.id, row.workspace_id, PersonRef(workspace, row.external_id), row.name, row.locale, row.tz,
                     row.is_bot, row.deleted, row.unreachable, row.refreshed_at, row.ws_locale, row.home_opened_at)


# Built once, with the id as a parameter: every job reads its round and person, and building the query
# (and its cache key) each time cost about as much as running it.
_MEMBER_BY_ID = (sa.select(*_member_cols, workspaces.c.platform, workspaces.c.external_id.label("ws_external"),
                           workspaces.c.locale.label("ws_locale"))
                 .join(workspaces, workspaces.c.id == members.c.workspace_id)
                 .where(members.c.id == sa.bindparam("member_id")))


async def get_member(conn: AsyncConnection, member_id: int) -> MemberRow:
    row = (await conn.execute(_MEMBER_BY_ID, {"member_id": member_id})).one()
    return _member(row, WorkspaceRef(row.platform, row.ws_external))


_MEMBER_BY_REF = (sa.select(*_member_cols, workspaces.c.locale.label("ws_locale"))  # built once, like _MEMBER_BY_ID
                  .join(workspaces, workspaces.c.id == members.c.workspace_id)
                  .where(workspaces.c.platform == sa.bindparam("platform"),
                         workspaces.c.external_id == sa.bindparam("workspace"),
                         members.c.external_id == sa.bindparam("person")))


async def find_member(conn: AsyncConnection, person: PersonRef) -> MemberRow | None:
    row = (await conn.execute(_MEMBER_BY_REF, {"platform": person.workspace.platform, "workspace": person.workspace.id,
                                               "person": person.id})).one_or_none()
    return None if row is None else _member(row, person.workspace)


_UPDATE_MEMBER = sa.update(members).where(members.c.id == sa.bindparam("b_id"))  # SET: the parameters given


async def update_member(conn: AsyncConnection, member_id: int, **values) -> None:
    """Change these columns of a person (nothing when none are given)."""
    if values:
        await conn.execute(_UPDATE_MEMBER, {"b_id": member_id, **values})


async def mark_unreachable(conn: AsyncConnection, member_id: int, reason: str) -> None:
    await conn.execute(sa.update(members).where(members.c.id == member_id).values(unreachable=reason[:255]))


async def mark_home_opened(conn: AsyncConnection, member_id: int, now: datetime) -> None:
    """Remember that the person uses their Home (written once: later openings change nothing)."""
    await conn.execute(sa.update(members).where(members.c.id == member_id, members.c.home_opened_at.is_(None))
                       .values(home_opened_at=now))


async def home_viewers(conn: AsyncConnection, round_id: int) -> list[int]:
    """The round's people (its recipients and its author) who have opened their Home: theirs shows the
    round, so it is worth refreshing when the round changes."""
    people = sa.union(sa.select(recipients.c.member_id).where(recipients.c.round_id == round_id),
                      sa.select(rounds.c.author_id).where(rounds.c.id == round_id))
    query = sa.select(members.c.id).where(members.c.id.in_(people), members.c.home_opened_at.is_not(None))
    return list((await conn.execute(query.order_by(members.c.id))).scalars())


# --- rounds ------------------------------------------------------------------------------------------
async def insert_round(conn: AsyncConnection, **values) -> int:
    result = await conn.execute(sa.insert(rounds).values(**values).returning(rounds.c.id))
    return result.scalar_one()


_author = members.alias("author")
_ROUND_BY_ID = (  # built once, like _MEMBER_BY_ID
    sa.select(rounds, workspaces.c.platform, workspaces.c.external_id.label("ws_external"),
              workspaces.c.name.label("ws_name"), workspaces.c.locale.label("ws_locale"),
              workspaces.c.tz.label("ws_tz"), channels.c.external_id.label("ch_external"),
              _author.c.external_id.label("a_external"), _author.c.name.label("a_name"),
              _author.c.locale.label("a_locale"), sa.func.coalesce(_author.c.tz, workspaces.c.tz).label("a_tz"),
              _author.c.is_bot.label("a_bot"),
              _author.c.deleted.label("a_deleted"), _author.c.unreachable.label("a_unreachable"),
              _author.c.refreshed_at.label("a_refreshed"), _author.c.home_opened_at.label("a_home_opened"))
    .join(workspaces, workspaces.c.id == rounds.c.workspace_id)
    .join(channels, channels.c.id == rounds.c.channel_id)
    .join(_author, _author.c.id == rounds.c.author_id)
    .where(rounds.c.id == sa.bindparam("round_id")))


async def get_round(conn: AsyncConnection, round_id: int) -> RoundRow | None:
    row = (await conn.execute(_ROUND_BY_ID, {"round_id": round_id})).one_or_none()
    if row is None:
        return None
    ws = WorkspaceRef(row.platform, row.ws_external)
    workspace = WorkspaceRow(row.workspace_id, ws, row.ws_name, row.ws_locale, row.ws_tz)
    author_row = MemberRow(row.author_id, row.workspace_id, PersonRef(ws, row.a_external), row.a_name, row.a_locale,
                           row.a_tz, row.a_bot, row.a_deleted, row.a_unreachable, row.a_refreshed, row.ws_locale,
                           row.a_home_opened)
    post = Posted(row.post_conversation, row.post_id) if row.post_id else None
    return RoundRow(row.id, workspace, ChannelRef(ws, row.ch_external), row.channel_id, author_row, row.title,
                    row.link, row.body, tuple(row.questions), row.share_mode, row.locale, row.status,
                    row.deadline_at, row.created_at, row.closed_at, post, row.asked)


async def update_round(conn: AsyncConnection, round_id: int, *, expect_status: str | None = None, **values) -> bool:
    """Change a round; with `expect_status`, only if it still has that status (a guard against races)."""
    statement = sa.update(rounds).where(rounds.c.id == round_id)
    if expect_status is not None:
        statement = statement.where(rounds.c.status == expect_status)
    return (await conn.execute(statement.values(**values))).rowcount == 1


# --- recipients --------------------------------------------------------------------------------------
async def add_recipients(conn: AsyncConnection, round_id: int, member_ids: list[int]) -> None:
    if member_ids:
        await conn.execute(upsert(conn, recipients).on_conflict_do_nothing(),
                           [{"round_id": round_id, "member_id": m} for m in member_ids])


_IS_RECIPIENT = sa.select(sa.literal(1)).where(recipients.c.round_id == sa.bindparam("round_id"),
                                                recipients.c.member_id == sa.bindparam("member_id"))


async def is_recipient(conn: AsyncConnection, round_id: int, member_id: int) -> bool:
    return (await conn.execute(_IS_RECIPIENT, {"round_id": round_id, "member_id": member_id})).first() is not None


async def get_recipient(conn: AsyncConnection, round_id: int, member_id: int):
    return (await conn.execute(sa.select(recipients).where(
        recipients.c.round_id == round_id, recipients.c.member_id == member_id))).one_or_none()


_UPDATE_RECIPIENT = sa.update(recipients).where(  # SET: the parameters given
    recipients.c.round_id == sa.bindparam("b_round"), recipients.c.member_id == sa.bindparam("b_member"))


async def update_recipient(conn: AsyncConnection, round_id: int, member_id: int, **values) -> None:
    await conn.execute(_UPDATE_RECIPIENT, {"b_round": round_id, "b_member": member_id, **values})


_UNSETTLED = sa.select(sa.func.count()).select_from(recipients).where(
    recipients.c.round_id == sa.bindparam("round_id"), recipients.c.dm_id.is_(None), recipients.c.unreachable.is_(None))


async def unsettled_recipients(conn: AsyncConnection, round_id: int) -> int:
    """Recipients whose DM was neither delivered nor given up on yet."""
    return (await conn.execute(_UNSETTLED, {"round_id": round_id})).scalar_one()


async def recipient_problems(conn: AsyncConnection, round_id: int) -> list[str]:
    """Why each recipient who did not get the DM could not be reached."""
    return list((await conn.execute(sa.select(recipients.c.unreachable).where(
        recipients.c.round_id == round_id, recipients.c.unreachable.is_not(None)))).scalars())


# --- answers -----------------------------------------------------------------------------------------
@functools.cache
def _save_answer(dialect: str):
    """The answer's upsert, built once per dialect (the values are parameters)."""
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(answers)
    return insert.on_conflict_do_update(
        index_elements=["round_id", "member_id"],
        set_={"texts": insert.excluded.texts, "updated_at": insert.excluded.updated_at,
              "version": answers.c.version + 1}).returning(answers.c.id)


async def save_answer(conn: AsyncConnection, round_id: int, member_id: int, texts: list[str], now: datetime) -> int:
    """Insert or replace a person's answers to a round; returns the answer id."""
    return (await conn.execute(_save_answer(conn.dialect.name), {
        "round_id": round_id, "member_id": member_id, "texts": texts, "version": 1, "created_at": now,
        "updated_at": now})).scalar_one()


def _answer_query():
    return (sa.select(answers, *[c.label(f"m_{c.name}") for c in _member_cols], workspaces.c.platform,
                      workspaces.c.external_id.label("ws_external"), workspaces.c.locale.label("ws_locale"))
            .join(members, members.c.id == answers.c.member_id)
            .join(workspaces, workspaces.c.id == members.c.workspace_id))


def _answer(row) -> AnswerRow:
    ws = WorkspaceRef(row.platform, row.ws_external)
    member = MemberRow(row.m_id, row.m_workspace_id, PersonRef(ws, row.m_external_id), row.m_name, row.m_locale,
                       row.m_tz, row.m_is_bot, row.m_deleted, row.m_unreachable, row.m_refreshed_at, row.ws_locale,
                       row.m_home_opened_at)
    reply = Posted(row.reply_conversation, row.reply_id) if row.reply_id else None
    return AnswerRow(row.id, row.round_id, member, tuple(row.texts), row.version, row.updated_at, reply)


# Built once: the Answer button reads the previous answer, and each thread reply's job its answer.
_ANSWER_BY_ID = _answer_query().where(answers.c.id == sa.bindparam("answer_id"))
_ANSWER_OF = _answer_query().where(answers.c.round_id == sa.bindparam("round_id"),
                                   answers.c.member_id == sa.bindparam("member_id"))


async def get_answer(conn: AsyncConnection, answer_id: int) -> AnswerRow | None:
    row = (await conn.execute(_ANSWER_BY_ID, {"answer_id": answer_id})).one_or_none()
    return None if row is None else _answer(row)


async def find_answer(conn: AsyncConnection, round_id: int, member_id: int) -> AnswerRow | None:
    row = (await conn.execute(_ANSWER_OF, {"round_id": round_id, "member_id": member_id})).one_or_none()
    return None if row is None else _answer(row)


async def round_answers(conn: AsyncConnection, round_id: int) -> list[AnswerRow]:
    rows = (await conn.execute(_answer_query().where(answers.c.round_id == round_id).order_by(answers.c.id))).all()
    return [_answer(row) for row in rows]


async def set_answer_reply(conn: AsyncConnection, answer_id: int, posted: Posted) -> None:
    await conn.execute(sa.update(answers).where(answers.c.id == answer_id).values(
        reply_conversation=posted.conversation, reply_id=posted.id))


async def has_answered(conn: AsyncConnection, round_id: int, member_id: int) -> bool:
    return (await conn.execute(sa.select(sa.literal(1)).where(
        answers.c.round_id == round_id, answers.c.member_id == member_id))).first() is not None


# --- summaries ---------------------------------------------------------------------------------------
async def save_summary(conn: AsyncConnection, round_id: int, **values) -> None:
    statement = upsert(conn, summaries).values(round_id=round_id, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["round_id"], set_=values))


async def get_summary(conn: AsyncConnection, round_id: int):
    return (await conn.execute(sa.select(summaries).where(summaries.c.round_id == round_id))).one_or_none()


# --- events ------------------------------------------------------------------------------------------
async def first_sighting(conn: AsyncConnection, event_id: str, now: datetime) -> bool:
    """True the first time an event id is seen (Slack redelivers events it thinks we missed)."""
    result = await conn.execute(upsert(conn, seen_events).values(event_id=event_id, seen_at=now)
                                .on_conflict_do_nothing())
    return result.rowcount == 1
