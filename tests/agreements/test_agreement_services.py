"""The agreement services in core: a real database (SQLite and PostgreSQL), the in-memory messenger,
a fixed clock."""

from datetime import datetime, timezone

import pytest

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.persistence import agreements as store
from core.persistence import repository as repo
from core.persistence.db import Database
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
