"""`unmeet data export | erase | sweep` as an operator runs them: real processes against a database
(SQLite and PostgreSQL) that the services filled."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.domain.refs import WorkspaceRef
from core.domain.rounds import ShareInput
from core.persistence.db import Database
from core.persistence.tables import jobs, seen_events
from core.ports import FixedClock
from core.services import rounds
from tests.fakes.messenger import FakeMessenger
from tests.fakes.processes import ROOT, clean_env

WS = WorkspaceRef("slack", "T1")


async def unmeet(env: dict[str, str], *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "unmeet", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_export_erase_and_sweep_from_the_command_line(database_url, tmp_path):
    now = datetime.now(timezone.utc)
    deps = build_deps(Settings(database_url=database_url), clock=FixedClock(now), db=Database(database_url))
    messenger = deps.messengers["slack"] = FakeMessenger()
    lea = messenger.add_person(WS, "ULEA", "Lea")
    ann = messenger.add_person(WS, "UANN", "Ann")
    messenger.channels["C1"] = ["ULEA", "UANN"]
    await rounds.share_insight(deps, author=lea, data=ShareInput(
        title="Lea's round", link="", text="Read it", questions=("Q1?", "Q2?", "Q3?"),
        deadline=(now + timedelta(days=7)).date(), share_mode="thread", channel_id="C1"))
    await build_worker(deps).run_due()
    round_id = int(messenger.dms("UANN")[0].message.blocks[-1].buttons[0].value)
    await rounds.record_answer(deps, person=ann, round_id=round_id, texts=("ann one", "ann two", "ann three"))
    await build_worker(deps).run_due()
    async with deps.db.transaction() as conn:
        await conn.execute(sa.insert(seen_events).values(event_id="Ev-old", seen_at=now - timedelta(days=2)))

    env = clean_env(DATABASE_URL=database_url)
    person = ("--platform", "slack", "--workspace", "T1", "--person", "UANN")
    out = tmp_path / "ann.json"
    assert f"wrote {out}" in await unmeet(env, "data", "export", *person, "--out", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert [tuple(a["texts"]) for a in exported["tables"]["answers"]] == [("ann one", "ann two", "ann three")]
    assert "ULEA" not in out.read_text(encoding="utf-8")

    erased = await unmeet(env, "data", "erase", *person)
    assert "1 answers" in erased and "1 members" in erased
    assert "1 posted message(s) will be replaced by a note" in erased
    assert json.loads(await unmeet(env, "data", "export", *person))["tables"] == {}
    assert await unmeet(env, "data", "erase", *person) == "nothing to delete\n"
    async with deps.db.transaction() as conn:
        retract = (await conn.execute(sa.select(jobs.c.status).where(jobs.c.kind == "privacy.retract"))).scalar_one()
    assert retract == "pending"  # for the worker of `unmeet serve`, which has the platform's credentials

    assert await unmeet(clean_env(DATABASE_URL=database_url, UNMEET_RETENTION_DAYS="0"),
                        "data", "sweep") == "deleted 1 seen_events\n"
    assert await unmeet(env, "data", "sweep") == "nothing to delete\n"
    await deps.db.dispose()
