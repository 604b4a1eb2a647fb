"""The agreement services in core: a real database (SQLite and PostgreSQL), the in-memory messenger,
a fixed clock."""

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.persistence import agreements as store
from core.persistence import repository as repo
from core.persistence.db import Database
from core.persistence.tables import jobs
from core.ports import FixedClock
from core.services import agreements
from tests.fakes.messenger import FakeMessenger

WS = WorkspaceRef("slack", "T1")
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)  # 09:00 in Brussels


@pytest.fixture
async def world(database_url):
    clock = FixedClock(MONDAY)
    deps = build_deps(Settings(database_url=database_url), clock=clock, db=Database(database_url))
    messenger = FakeMessenger()
    deps.messengers["slack"] = messenger
    lead = messenger.add_person(WS, "ULEAD", "Lea", tz="Europe/Brussels", locale="nl-BE")
    ann = messenger.add_person(WS, "UANN", "Ann", tz="Europe/Brussels", locale="en-US")
    messenger.channels["C1"] = ["ULEAD", "UANN"]
    worker = build_worker(deps)
    yield deps, messenger, worker, clock, (lead, ann)
    await deps.db.dispose()


async def test_add_rules_before_any_principle_creates_a_draft_that_asks_for_one(world):
    deps, _m, _w, _c, (lead, _ann) = world
    added = await agreements.add_rules(deps, workspace=WS, channel="C1", by=lead,
                                       texts=["Budget calls: the lead decides", "  ", "Tools: the team decides"])
    assert (added.added, added.needs_principle, added.refused) == (2, True, None)
    async with deps.db.transaction() as conn:
        channel_id = await repo.ensure_channel(conn, 1, "C1")
        agreement = await store.find_agreement(conn, channel_id)
        content = await store.draft_content(conn, agreement.id)
        team = await store.rules_for_channel(conn, channel_id)
    assert [r.text for r in content.rules] == ["Budget calls: the lead decides", "Tools: the team decides"]
    assert agreement.version == 0 and team.version == 0  # a draft: nothing the app obeys yet
    again = await agreements.add_rules(deps, workspace=WS, channel="C1", by=lead, texts=["Hiring: HR decides"])
    assert again.agreement_id == added.agreement_id and again.added == 1


async def publish(deps, lead, owner_id: int, **values):
    from core.domain.agreements import ActionInput, AgreementInput

    form = await agreements.edit_form(deps, person=lead, channel_id="C1")
    data = AgreementInput(principles="Writing first.", rules="Threads, always.",
                          actions=(ActionInput("Write the channel guide", str(owner_id),
                                               MONDAY.date() + timedelta(days=9)),), **values)
    result = await agreements.submit_agreement(deps, person=lead, metadata=form.metadata, data=data)
    assert isinstance(result, agreements.Done), getattr(result, "form", None) and result.form.errors
    return result


async def test_export_erase_and_sweep_cover_the_agreement_tables(world):
    from core.persistence.tables_agreements import agreement_actions, agreement_versions, agreements as table
    from core.services import privacy

    deps, _m, worker, clock, (lead, ann) = world
    await agreements.known_person(deps, ann)
    async with deps.db.transaction() as conn:
        ann_id = (await repo.find_member(conn, ann)).id
    await publish(deps, ann, ann_id)  # Ann leads the agreement and owns its action
    clock.advance(days=1)
    await publish(deps, ann, ann_id)
    exported = (await privacy.export_person(deps, ann))["tables"]
    assert [row["channel_id"] for row in exported["agreements"]] == [1]
    assert [row["text"] for row in exported["agreement_actions"]] == ["Write the channel guide"]
    assert [row["version"] for row in exported["agreement_versions"]] == [1, 2]
    assert {row["key"].split(":")[0] for row in exported["jobs"]} >= {"agreement.action"}
    assert "Lea" not in json.dumps(exported)

    # The sweep keeps the current version and open actions; older versions go.
    deps.settings.unmeet_retention_days = 1
    clock.advance(days=3)
    await privacy.sweep(deps)
    async with deps.db.transaction() as conn:
        versions = (await conn.execute(sa.select(agreement_versions.c.version))).scalars().all()
        assert versions == [2]
        assert (await conn.execute(sa.select(sa.func.count()).select_from(agreement_actions))).scalar_one() == 1

    # Erasing Ann: her action and its DMs go, the team's agreement stays without her name on it.
    await privacy.erase_person(deps, ann)
    async with deps.db.transaction() as conn:
        [row] = (await conn.execute(sa.select(table))).all()
        assert row.lead_id is None and row.version == 2
        assert (await conn.execute(sa.select(sa.func.count()).select_from(agreement_actions))).scalar_one() == 0
        assert (await conn.execute(sa.select(agreement_versions.c.published_by))).scalars().all() == [None]
        keys = (await conn.execute(sa.select(jobs.c.key))).scalars().all()
    assert not [k for k in keys if k.startswith("agreement.action")]
    assert (await privacy.export_person(deps, ann)) in ({}, {"tables": {}}) or not any(
        (await privacy.export_person(deps, ann))["tables"].values())


async def test_typed_rules_in_one_read_and_bad_input_keeps_every_value(world):
    from core.domain.agreements import ActionInput, AgreementInput

    deps, _m, _w, _c, (lead, ann) = world
    await agreements.known_person(deps, ann)
    async with deps.db.transaction() as conn:
        ann_id = (await repo.find_member(conn, ann)).id
    form = await agreements.edit_form(deps, person=lead, channel_id="C1")
    bad = AgreementInput(rules="Answer in threads.", response_hours="24",
                         actions=(ActionInput("Guide", str(ann_id), MONDAY.date() - timedelta(days=1)),
                                  ActionInput("Offsite", "none", None)))
    result = await agreements.submit_agreement(deps, person=lead, metadata=form.metadata, data=bad)
    assert isinstance(result, agreements.Invalid)
    assert set(result.form.errors) == {"principles", "a1_due", "a2_owner", "a2_due"}
    values = {i.id: getattr(i, "initial", None) for i in result.form.inputs}
    assert values["rules"] == "Answer in threads." and values["response_hours"] == "24" and values["a2_text"] == "Offsite"
    await publish(deps, lead, ann_id, work_start="09:00", work_end="15:00", response_hours="24", focus_hours="6",
                  no_meeting_day="2", agenda="yes")
    async with deps.db.transaction() as conn:
        team = await store.rules_for_channel(conn, await repo.ensure_channel(conn, 1, "C1"))
    assert (team.version, team.work_start.hour, team.work_end.hour, team.response_hours, team.focus_goal_minutes,
            team.no_meeting_days, team.agenda_required) == (1, 9, 15, 24, 360, frozenset({2}), True)
