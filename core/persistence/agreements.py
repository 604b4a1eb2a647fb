"""All SQL of team agreements: the working draft, published versions, actions, and `rules_for_channel`
— the one read of a team's typed rules that every scheduler uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.agreements import ActionState, Rule, TeamRules, team_rules
from core.persistence.db import upsert
from core.persistence.tables import channels, members, rounds
from core.persistence.tables_agreements import (agreement_actions, agreement_members, agreement_principles,
                                                agreement_rules, agreement_versions, agreements)


@dataclass(frozen=True)
class ActionRow:
    id: int
    agreement_id: int
    text: str
    owner_id: int | None
    due_on: date | None
    state: str


@dataclass(frozen=True)
class AgreementRow:
    id: int
    workspace_id: int
    channel_id: int
    channel_external_id: str
    lead_id: int | None
    version: int
    post_conversation: str | None
    post_id: str | None
    pinned: bool
    round_id: int | None
    draft: dict | None
    published_at: datetime | None


@dataclass(frozen=True)
class Content:
    """Principles, rules and actions: the working draft, or a published version's snapshot."""

    principles: tuple[str, ...]
    rules: tuple[Rule, ...]
    actions: tuple[ActionRow, ...]

    def to_json(self) -> dict:
        return {"principles": list(self.principles),
                "rules": [{"kind": r.kind, "text": r.text, "params": r.params} for r in self.rules],
                "actions": [{"id": a.id, "text": a.text, "owner_id": a.owner_id,
                             "due_on": a.due_on.isoformat() if a.due_on else None} for a in self.actions]}

    @staticmethod
    def from_json(data: dict, agreement_id: int) -> "Content":
        return Content(tuple(data.get("principles", ())),
                       tuple(Rule(r["kind"], r.get("text", ""), r.get("params") or {}) for r in data.get("rules", ())),
                       tuple(ActionRow(a["id"], agreement_id, a["text"], a.get("owner_id"),
                                       date.fromisoformat(a["due_on"]) if a.get("due_on") else None, ActionState.OPEN)
                             for a in data.get("actions", ())))


def _agreement_query():
    return sa.select(agreements, channels.c.external_id.label("channel_external_id")).join(
        channels, channels.c.id == agreements.c.channel_id)


def _agreement(row) -> AgreementRow:
    return AgreementRow(row.id, row.workspace_id, row.channel_id, row.channel_external_id, row.lead_id, row.version,
                        row.post_conversation, row.post_id, row.pinned, row.round_id, row.draft, row.published_at)


async def find_agreement(conn: AsyncConnection, channel_id: int) -> AgreementRow | None:
    row = (await conn.execute(_agreement_query().where(agreements.c.channel_id == channel_id))).first()
    return _agreement(row) if row else None


async def get_agreement(conn: AsyncConnection, agreement_id: int) -> AgreementRow | None:
    row = (await conn.execute(_agreement_query().where(agreements.c.id == agreement_id))).first()
    return _agreement(row) if row else None


async def ensure_agreement(conn: AsyncConnection, *, workspace_id: int, channel_id: int, lead_id: int,
                           now: datetime) -> AgreementRow:
    """The channel's agreement; a new, empty draft led by `lead_id` if it has none. A draft that lost
    its lead (erased) is taken over by whoever works on it next."""
    await conn.execute(upsert(conn, agreements).values(
        workspace_id=workspace_id, channel_id=channel_id, lead_id=lead_id, version=0, created_at=now,
        updated_at=now).on_conflict_do_nothing(index_elements=["channel_id"]))
    await conn.execute(sa.update(agreements).where(agreements.c.channel_id == channel_id,
                                                   agreements.c.lead_id.is_(None)).values(lead_id=lead_id))
    return await find_agreement(conn, channel_id)


async def update_agreement(conn: AsyncConnection, agreement_id: int, **values) -> None:
    await conn.execute(sa.update(agreements).where(agreements.c.id == agreement_id).values(**values))


def _action(row) -> ActionRow:
    return ActionRow(row.id, row.agreement_id, row.text, row.owner_id, row.due_on, row.state)


async def draft_content(conn: AsyncConnection, agreement_id: int) -> Content:
    principles = (await conn.execute(sa.select(agreement_principles.c.text).where(
        agreement_principles.c.agreement_id == agreement_id).order_by(agreement_principles.c.position,
                                                                      agreement_principles.c.id))).scalars().all()
    rules = (await conn.execute(sa.select(agreement_rules).where(agreement_rules.c.agreement_id == agreement_id)
                                .order_by(agreement_rules.c.position, agreement_rules.c.id))).all()
    actions = await agreement_actions_of(conn, agreement_id)
    return Content(tuple(principles), tuple(Rule(r.kind, r.text, r.params or {}) for r in rules), tuple(actions))


async def agreement_actions_of(conn: AsyncConnection, agreement_id: int) -> list[ActionRow]:
    rows = await conn.execute(sa.select(agreement_actions).where(agreement_actions.c.agreement_id == agreement_id)
                              .order_by(agreement_actions.c.position, agreement_actions.c.id))
    return [_action(row) for row in rows]


async def next_rule_position(conn: AsyncConnection, agreement_id: int) -> int:
    found = (await conn.execute(sa.select(sa.func.max(agreement_rules.c.position)).where(
        agreement_rules.c.agreement_id == agreement_id))).scalar()
    return (found or 0) + 1


async def add_rule_rows(conn: AsyncConnection, agreement_id: int, rules: list[Rule], *, source: str) -> None:
    position = await next_rule_position(conn, agreement_id)
    if rules:
        await conn.execute(agreement_rules.insert(), [
            dict(agreement_id=agreement_id, position=position + i, kind=r.kind, text=r.text, params=r.params,
                 source=source) for i, r in enumerate(rules)])


async def replace_draft(conn: AsyncConnection, agreement_id: int, *, principles: list[str], rules: list[Rule],
                        actions: list[dict], now: datetime) -> None:
    """The form's content becomes the draft. Actions: dicts with text, owner_id, due_on and the `id` of
    the stored action a row edits (None: new); stored actions not named are deleted."""
    await conn.execute(sa.delete(agreement_principles).where(agreement_principles.c.agreement_id == agreement_id))
    await conn.execute(sa.delete(agreement_rules).where(agreement_rules.c.agreement_id == agreement_id))
    if principles:
        await conn.execute(agreement_principles.insert(), [
            dict(agreement_id=agreement_id, position=i, text=text) for i, text in enumerate(principles)])
    await add_rule_rows(conn, agreement_id, rules, source="form")
    kept = [a["id"] for a in actions if a.get("id")]
    await conn.execute(sa.delete(agreement_actions).where(agreement_actions.c.agreement_id == agreement_id,
                                                          agreement_actions.c.id.not_in(kept or [-1])))
    for position, action in enumerate(actions):
        values = dict(text=action["text"], owner_id=action["owner_id"], due_on=action["due_on"], position=position,
                      updated_at=now)
        if action.get("id"):
            await conn.execute(sa.update(agreement_actions).where(
                agreement_actions.c.id == action["id"], agreement_actions.c.agreement_id == agreement_id).values(**values))
        else:
            await conn.execute(agreement_actions.insert().values(agreement_id=agreement_id, state=ActionState.OPEN,
                                                                 created_at=now, **values))
    await update_agreement(conn, agreement_id, updated_at=now)


async def get_action(conn: AsyncConnection, action_id: int) -> ActionRow | None:
    row = (await conn.execute(sa.select(agreement_actions).where(agreement_actions.c.id == action_id))).first()
    return _action(row) if row else None


async def set_action_state(conn: AsyncConnection, action_id: int, state: str, now: datetime) -> None:
    await conn.execute(sa.update(agreement_actions).where(agreement_actions.c.id == action_id)
                       .values(state=state, updated_at=now))


async def save_version(conn: AsyncConnection, agreement_id: int, *, version: int, content: Content,
                       published_by: int, now: datetime) -> None:
    await conn.execute(agreement_versions.insert().values(agreement_id=agreement_id, version=version,
                                                          content=content.to_json(), published_by=published_by,
                                                          published_at=now))
    await update_agreement(conn, agreement_id, version=version, published_at=now, updated_at=now)


async def published_content(conn: AsyncConnection, agreement_id: int, version: int | None = None) -> Content | None:
    """A published version (default: the latest), with each action's current state."""
    query = sa.select(agreement_versions.c.content).where(agreement_versions.c.agreement_id == agreement_id)
    query = query.where(agreement_versions.c.version == version) if version else query.order_by(
        agreement_versions.c.version.desc()).limit(1)
    data = (await conn.execute(query)).scalar_one_or_none()
    if data is None:
        return None
    content = Content.from_json(data, agreement_id)
    states = {a.id: a.state for a in await agreement_actions_of(conn, agreement_id)}
    return Content(content.principles, content.rules,
                   tuple(ActionRow(a.id, a.agreement_id, a.text, a.owner_id, a.due_on, states.get(a.id, ActionState.DROPPED))
                         for a in content.actions if a.id in states))


async def versions_count(conn: AsyncConnection, agreement_id: int) -> int:
    return (await conn.execute(sa.select(sa.func.count()).select_from(agreement_versions).where(
        agreement_versions.c.agreement_id == agreement_id))).scalar_one()


async def set_agreement_members(conn: AsyncConnection, agreement_id: int, member_ids: list[int]) -> None:
    await conn.execute(sa.delete(agreement_members).where(agreement_members.c.agreement_id == agreement_id))
    if member_ids:
        await conn.execute(agreement_members.insert(), [dict(agreement_id=agreement_id, member_id=m)
                                                        for m in sorted(set(member_ids))])


# --- the rules the app obeys ----------------------------------------------------------------------------
# Built once, with parameters: /share-insight reads them for every form it opens.
_PUBLISHED = sa.select(agreements.c.id, agreements.c.version).where(
    agreements.c.channel_id == sa.bindparam("channel_id"), agreements.c.version > 0)
_CHANNEL_ID = sa.select(channels.c.id).where(channels.c.workspace_id == sa.bindparam("workspace_id"),
                                             channels.c.external_id == sa.bindparam("external_id"))


async def rules_for_channel(conn: AsyncConnection, channel_id: int | None) -> TeamRules:
    """The typed rules of the channel's published agreement (none: the defaults). The one place
    schedulers read team rules from: nudges, round deadlines, the meeting check, /focus."""
    if channel_id is None:
        return TeamRules()
    agreement = (await conn.execute(_PUBLISHED, {"channel_id": channel_id})).first()
    if agreement is None:
        return TeamRules()
    content = await published_content(conn, agreement.id, agreement.version)
    return team_rules(content.rules if content else (), agreement.version)


async def rules_for_external_channel(conn: AsyncConnection, workspace_id: int, external_id: str) -> TeamRules:
    channel_id = (await conn.execute(_CHANNEL_ID, {"workspace_id": workspace_id,
                                                   "external_id": external_id})).scalar_one_or_none()
    return await rules_for_channel(conn, channel_id)


async def team_focus_goal(conn: AsyncConnection, member_id: int) -> int | None:
    """The weekly focus goal (minutes) of the most recently published agreement of a team this person
    was in when it was published; None when no team of theirs set one."""
    rows = await conn.execute(sa.select(agreements.c.channel_id).join(
        agreement_members, agreement_members.c.agreement_id == agreements.c.id).where(
        agreement_members.c.member_id == member_id, agreements.c.version > 0).order_by(agreements.c.published_at.desc()))
    for channel_id in rows.scalars().all():
        goal = (await rules_for_channel(conn, channel_id)).focus_goal_minutes
        if goal:
            return goal
    return None


async def agreement_week(conn: AsyncConnection, channel_id: int):
    """For the weekly digest: the channel's published version and its open actions, or None."""
    from core.domain.digest import AgreementWeek

    agreement = await find_agreement(conn, channel_id)
    if agreement is None or agreement.version == 0:
        return None
    content = await published_content(conn, agreement.id)
    return AgreementWeek(agreement.version, tuple((a.text, a.due_on) for a in content.actions
                                                  if a.state == ActionState.OPEN))


async def latest_round(conn: AsyncConnection, *, channel_id: int, author_id: int) -> int | None:
    """The round this person shared last in this channel (the questionnaire just sent)."""
    return (await conn.execute(sa.select(sa.func.max(rounds.c.id)).where(
        rounds.c.channel_id == channel_id, rounds.c.author_id == author_id))).scalar_one()


async def workspace_agreements(conn: AsyncConnection, workspace_id: int) -> list[AgreementRow]:
    rows = await conn.execute(_agreement_query().where(agreements.c.workspace_id == workspace_id,
                                                       agreements.c.version > 0))
    return [_agreement(row) for row in rows]


async def member_names(conn: AsyncConnection, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await conn.execute(sa.select(members.c.id, members.c.name, members.c.external_id)
                              .where(members.c.id.in_(ids)))
    return {row.id: row.name or row.external_id for row in rows}


async def owner_choices(conn: AsyncConnection, workspace_id: int, limit: int = 100) -> list[tuple[int, str]]:
    """People who can own an action: the workspace's known members (not bots, not gone), by name."""
    rows = await conn.execute(sa.select(members.c.id, members.c.name, members.c.external_id).where(
        members.c.workspace_id == workspace_id, members.c.is_bot.is_(False), members.c.deleted.is_(False))
        .order_by(members.c.name, members.c.id).limit(limit))
    return [(row.id, row.name or row.external_id) for row in rows]
