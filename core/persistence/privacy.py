"""All SQL of personal data handling: one person's rows (export, erase) and the retention sweep.

A person's rows are found from the schema itself: every column that references `members.id`
(`person_columns`), so a table added later with such a column is exported and erased with no change
here. Outside those foreign keys a person appears in three places, handled by name: columns holding
their platform id (who installed the app in a Slack workspace), Teams conversation references (their
1:1 chat, and the install reference that names who added the app to a team) and job payloads
(`{"member": …}`, `{"answer": …}`, `{"round": …}`, `{"session": …}`, `{"block": …}`, `{"run": …}`).
What was sent to them on Teams under a job's key (`teams_sends`) goes with those jobs and their chat.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import answers_in_key
from core.jobs.queue import CANCELLED, DEAD, DONE, PENDING
from core.persistence.tables import (answers, jobs, members, metadata, rounds, seen_events, summaries,
                                     workspaces)
from core.persistence.tables_drivers_seat import seat_runs
from core.persistence.tables_agreements import agreement_actions, agreement_versions, agreements
from core.persistence.tables_focus import focus_blocks, focus_sessions, meeting_checks, oauth_states, user_tokens
from core.persistence.tables_installations import installations
from core.persistence.tables_llm import llm_usage
from core.persistence.tables_one_thing import one_things
from core.persistence.tables_programmes import completions, programme_sessions, programmes
from core.persistence.tables_stuck import stuck_logs
from core.persistence.tables_teams import teams_conversations, teams_sends
from core.persistence.teams import CARD_PREFIX, INSTALL, PERSON

# What a job's payload may name, and the table whose ids it holds.
PAYLOAD_REFS = {"member": members, "answer": answers, "round": rounds, "session": focus_sessions,
                "block": focus_blocks, "action": agreement_actions, "run": seat_runs}
# Member columns of a team's rows: exported with the person, emptied (not deleted) when they are erased,
# so a team's agreement outlives the lead who wrote it.
TEAM_OWNED = (agreements.c.lead_id, agreement_versions.c.published_by, stuck_logs.c.started_by)
# Columns holding a person's platform id in their workspace's rows: erasing empties them, the row stays
# (a workspace's installation is the workspace's, not its installer's).
NAMED_BY_ID = (installations.c.installer_id,)
# Never exported. A personal token shows as `"connected": true`; an OAuth state only by its expiry.
SECRETS = {user_tokens.c.token_encrypted: "connected", user_tokens.c.refresh_token_encrypted: None,
           oauth_states.c.state: None, installations.c.bot_token_encrypted: None,
           installations.c.bot_refresh_token_encrypted: None}
# Event ids only stop a redelivery from having its effect twice; Slack redelivers within the hour.
EVENT_MEMORY = timedelta(days=1)

Rows = dict[str, list[dict]]


def person_columns() -> list[sa.Column]:
    """Every column that says "this row is this person's" (a foreign key to members.id)."""
    return [column for table in metadata.sorted_tables for column in table.columns
            if any(fk.column is members.c.id for fk in column.foreign_keys)]


def _plain(value):
    return value.isoformat() if isinstance(value, (datetime, date)) else value


async def _rows(conn: AsyncConnection, table: sa.Table, *where) -> list[dict]:
    shown = [c for c in table.columns if c not in SECRETS]
    flags = [name for column, name in SECRETS.items() if column.table is table and name]
    result = await conn.execute(sa.select(*shown).where(*where).order_by(*table.primary_key.columns))
    return [{**{k: _plain(v) for k, v in row._mapping.items()}, **dict.fromkeys(flags, True)} for row in result]


async def _references(conn: AsyncConnection, workspace_id: int, person_id: str) -> list[dict]:
    """Their 1:1 chat with the bot, and the teams they added the app to (Teams only)."""
    rows = await _rows(conn, teams_conversations, teams_conversations.c.workspace_id == workspace_id,
                       teams_conversations.c.kind.in_((PERSON, INSTALL)))
    return [row for row in rows if (row["kind"] == PERSON and row["external_id"] == person_id) or (
        row["kind"] == INSTALL and ((row["reference"] or {}).get("user") or {}).get("id") == person_id)]


async def _jobs_naming(conn: AsyncConnection, workspace_id: int, ids: dict[str, set[int]]) -> list[dict]:
    """Jobs (any status) whose payload names one of these rows."""
    rows = await _rows(conn, jobs, jobs.c.workspace_id == workspace_id)
    return [row for row in rows if any(row["payload"].get(key) in found for key, found in ids.items())]


def payload_ids(rows: Rows) -> dict[str, set[int]]:
    return {key: {row["id"] for row in rows.get(table.name, ())} for key, table in PAYLOAD_REFS.items()}


async def _workspace_id(conn: AsyncConnection, workspace: WorkspaceRef) -> int | None:
    return (await conn.execute(sa.select(workspaces.c.id).where(
        workspaces.c.platform == workspace.platform, workspaces.c.external_id == workspace.id))).scalar_one_or_none()


async def person_rows(conn: AsyncConnection, person: PersonRef) -> Rows:
    """Every row that is this person's, by table: their member row, the rows that point at it, the
    rows naming their platform id, their Teams references, and the jobs about those rows. Nothing of
    anybody else: a round they shared comes without the answers others gave to it, or the jobs that
    sent it to others."""
    workspace_id = await _workspace_id(conn, person.workspace)
    if workspace_id is None:
        return {}
    found: Rows = {members.name: await _rows(conn, members, members.c.workspace_id == workspace_id,
                                             members.c.external_id == person.id)}
    if found[members.name]:
        member_id = found[members.name][0]["id"]
        for column in person_columns():
            found.setdefault(column.table.name, []).extend(await _rows(conn, column.table, column == member_id))
        found[jobs.name] = [row for row in await _jobs_naming(conn, workspace_id, payload_ids(found))
                            if row["payload"].get("member", member_id) == member_id]  # not `dm:{round}:{other}`
    # Answers they submitted, as the job that stores them holds them (it knows them by platform id)
    found.setdefault(jobs.name, []).extend(await _rows(conn, jobs, jobs.c.key.startswith(answers_in_key(person),
                                                                                         autoescape=True)))
    for column in NAMED_BY_ID:
        found[column.table.name] = await _rows(conn, column.table, column.table.c.workspace_id == workspace_id,
                                               column == person.id)
    found[teams_conversations.name] = await _references(conn, workspace_id, person.id)
    found[teams_sends.name] = await _sends(conn, workspace_id, found)
    return found


async def _sends(conn: AsyncConnection, workspace_id: int, found: Rows) -> list[dict]:
    """Teams sends under their jobs' keys, or into their 1:1 chat."""
    keys = {row["key"] for row in found.get(jobs.name, ())}
    chats = {row["conversation_id"] for row in found.get(teams_conversations.name, ()) if row["kind"] == PERSON}
    if not keys and not chats:
        return []
    return await _rows(conn, teams_sends, teams_sends.c.workspace_id == workspace_id,
                       sa.or_(teams_sends.c.key.in_(keys), teams_sends.c.conversation_id.in_(chats)))


async def answers_to(conn: AsyncConnection, round_ids: set[int]) -> set[int]:
    """The ids of every answer to these rounds (whoever gave them)."""
    if not round_ids:
        return set()
    return set((await conn.execute(sa.select(answers.c.id).where(answers.c.round_id.in_(round_ids)))).scalars())


async def delete_rows(conn: AsyncConnection, person: PersonRef, found: Rows, *,
                      also: dict[str, set[int]]) -> dict[str, int]:
    """Delete the rows `person_rows` found, and the jobs naming them or the ids in `also` (e.g. the
    answers others gave to a round of theirs, which goes with it); empty the columns naming them.
    Returns the count per table."""
    workspace_id = await _workspace_id(conn, person.workspace)
    ids = payload_ids(found)
    for key, more in also.items():
        ids[key] |= more
    doomed = [row["id"] for row in await _jobs_naming(conn, workspace_id, ids)] if any(ids.values()) else []
    doomed += [row["id"] for row in found.get(jobs.name, ()) if row["id"] not in doomed]
    references = [row["id"] for row in found.get(teams_conversations.name, ())]
    counts = {jobs.name: len(doomed), teams_conversations.name: len(references)}
    sends = {row["key"] for row in found.get(teams_sends.name, ())}
    if doomed:
        sends |= set((await conn.execute(sa.select(jobs.c.key).where(jobs.c.id.in_(doomed)))).scalars())
    if sends:
        counts[teams_sends.name] = (await conn.execute(sa.delete(teams_sends).where(
            teams_sends.c.workspace_id == workspace_id, teams_sends.c.key.in_(sends)))).rowcount
    if doomed:
        await conn.execute(sa.delete(jobs).where(jobs.c.id.in_(doomed)))
    if references:
        await conn.execute(sa.delete(teams_conversations).where(teams_conversations.c.id.in_(references)))
    for column in NAMED_BY_ID:
        result = await conn.execute(sa.update(column.table).where(
            column.table.c.workspace_id == workspace_id, column == person.id).values({column.name: None}))
        counts[f"{column.table.name}.{column.name}"] = result.rowcount
    if found.get(members.name):
        member_id = found[members.name][0]["id"]
        for column in TEAM_OWNED:
            result = await conn.execute(sa.update(column.table).where(column == member_id).values({column.name: None}))
            counts[f"{column.table.name}.{column.name}"] = result.rowcount
        for column in reversed(person_columns()):  # the rows that point at the member, then the member
            if column in TEAM_OWNED:
                continue
            result = await conn.execute(sa.delete(column.table).where(column == member_id))
            counts[column.table.name] = counts.get(column.table.name, 0) + result.rowcount
        counts[members.name] = (await conn.execute(sa.delete(members).where(members.c.id == member_id))).rowcount
    return counts


async def leave_round(conn: AsyncConnection, round_id: int) -> None:
    """One person fewer was asked in this round (their recipient row goes)."""
    await conn.execute(sa.update(rounds).where(rounds.c.id == round_id, rounds.c.asked > 0)
                       .values(asked=rounds.c.asked - 1))


async def set_summary_body(conn: AsyncConnection, round_id: int, body: dict) -> None:
    await conn.execute(sa.update(summaries).where(summaries.c.round_id == round_id).values(body=body))


# --- the retention sweep -------------------------------------------------------------------------------
async def sweep(conn: AsyncConnection, *, now: datetime, cutoff: datetime | None) -> dict[str, int]:
    """Delete what is older than `cutoff` (None: keep everything): workspaces uninstalled before it
    with all their data; rounds that ended (closed, or their deadline passed) before it, with their
    answers, recipients and summaries; focus sessions, planned blocks and meeting checks; One Things
    replaced before it (a current one stays while it is current); stuck logs closed before it, with
    their entries; Driver's Seat runs that ended before it, with their days, shares and feedback; programmes
    whose last session was before it, with their cohort; completions; finished jobs; token ledgers. And
    always the housekeeping that would grow forever: event ids older than EVENT_MEMORY, expired OAuth
    states, records of Teams sends whose job won't run again. Returns the rows deleted per table
    (cascades not counted). Idempotent: a second run at the same moment deletes nothing."""
    counts: dict[str, int] = {}

    async def delete(table: sa.Table, *where) -> None:
        result = await conn.execute(sa.delete(table).where(*where))
        counts[table.name] = counts.get(table.name, 0) + result.rowcount

    card = seen_events.c.event_id.startswith(CARD_PREFIX)  # a Teams card can be clicked days later
    await delete(seen_events, seen_events.c.seen_at < now - EVENT_MEMORY, ~card)
    await delete(oauth_states, oauth_states.c.expires_at < now)
    # A Teams send's record only matters while its job may run again.
    await delete(teams_sends, ~sa.exists().where(jobs.c.key == teams_sends.c.key, jobs.c.status == PENDING))
    if cutoff is None:
        return counts
    await delete(seen_events, seen_events.c.seen_at < cutoff)
    await delete(workspaces, workspaces.c.uninstalled_at < cutoff)
    await delete(rounds, sa.func.coalesce(rounds.c.closed_at, rounds.c.deadline_at) < cutoff)
    await delete(focus_sessions, sa.func.coalesce(focus_sessions.c.ended_at, focus_sessions.c.ends_at) < cutoff)
    await delete(focus_blocks, focus_blocks.c.starts_at < cutoff)
    await delete(meeting_checks, meeting_checks.c.created_at < cutoff)
    await delete(one_things, one_things.c.replaced_at < cutoff)
    await delete(seat_runs, seat_runs.c.ended_at < cutoff)  # with its days, shares and feedback
    # A team's agreement stays; its older versions and its finished actions go.
    await delete(agreement_versions, agreement_versions.c.published_at < cutoff, agreement_versions.c.version < (
        sa.select(agreements.c.version).where(agreements.c.id == agreement_versions.c.agreement_id).scalar_subquery()))
    await delete(agreement_actions, agreement_actions.c.state != "open", agreement_actions.c.updated_at < cutoff)
    await delete(stuck_logs, stuck_logs.c.closed_at < cutoff)  # with their entries
    last_session = sa.select(sa.func.max(programme_sessions.c.starts_at)).where(
        programme_sessions.c.programme_id == programmes.c.id).scalar_subquery()
    await delete(programmes, last_session < cutoff)  # with its sessions, assignments and cohort
    await delete(completions, completions.c.at < cutoff)
    await delete(jobs, jobs.c.status.in_((DONE, DEAD, CANCELLED)),
                 sa.func.coalesce(jobs.c.finished_at, jobs.c.created_at) < cutoff)
    await delete(llm_usage, llm_usage.c.day < cutoff.date())
    return counts
