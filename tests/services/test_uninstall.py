"""Uninstall (reliability.md 5) in core: a job that a handler still running at the uninstall queues
afterwards never runs; a request from the workspace brings it back; another workspace is untouched;
the workspace's data goes with the retention sweep. Real database (SQLite and PostgreSQL), the real
round handlers and worker, the in-memory messenger."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.domain.refs import ChannelRef, WorkspaceRef
from core.domain.rounds import ShareInput
from core.persistence import repository as repo
from core.persistence.db import Database
from core.persistence.tables import jobs, workspaces
from core.ports import FixedClock, Person
from core.services import events, privacy, rounds
from tests.fakes.messenger import FakeMessenger

A, B = WorkspaceRef("slack", "TA"), WorkspaceRef("slack", "TB")
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)


@dataclass
class HeldMessenger(FakeMessenger):
    """Listing channel CA's members waits until the test lets it go: a fan-out caught mid-way."""

    listing: asyncio.Event = field(default_factory=asyncio.Event)
    go_on: asyncio.Event = field(default_factory=asyncio.Event)

    async def channel_members(self, channel: ChannelRef) -> list[Person]:
        if channel.id == "CA":
            self.listing.set()
            await self.go_on.wait()
        return await super().channel_members(channel)


def share(channel: str, title: str) -> ShareInput:
    return ShareInput(title=title, link="", text="Read it", questions=("Q1?", "Q2?", "Q3?"), deadline=date(2026, 12, 4),
                      share_mode="thread", channel_id=channel)


async def job_statuses(deps, workspace: WorkspaceRef, kind: str) -> list[str]:
    async with deps.db.transaction() as conn:
        return list((await conn.execute(
            sa.select(jobs.c.status).join(workspaces, workspaces.c.id == jobs.c.workspace_id)
            .where(workspaces.c.external_id == workspace.id, jobs.c.kind == kind).order_by(jobs.c.id))).scalars())


async def uninstalled_at(deps, workspace: WorkspaceRef) -> datetime | None:
    async with deps.db.transaction() as conn:
        return (await conn.execute(sa.select(workspaces.c.uninstalled_at).where(
            workspaces.c.external_id == workspace.id))).scalar_one_or_none()


async def test_jobs_queued_by_a_handler_running_at_the_uninstall_never_run(database_url):
    clock = FixedClock(MONDAY)
    deps = build_deps(Settings(database_url=database_url, unmeet_retention_days=30), clock=clock,
                      db=Database(database_url))
    messenger = HeldMessenger()
    deps.messengers["slack"] = messenger
    for ws, prefix in ((A, "A"), (B, "B")):
        lead = messenger.add_person(ws, f"U{prefix}LEAD", "Lead")
        messenger.add_person(ws, f"U{prefix}1", "One")
        messenger.channels[f"C{prefix}"] = [lead.id, f"U{prefix}1"]
        shared = await rounds.share_insight(deps, author=lead, data=share(f"C{prefix}", f"Round in {prefix}"))
        assert isinstance(shared, rounds.Done)
    worker = build_worker(deps)

    running = asyncio.create_task(worker.run_due())  # both fan-outs start; A's waits in the channel listing
    await asyncio.wait_for(messenger.listing.wait(), 10)
    assert await events.workspace_uninstalled(deps, A) == 2  # A's close, and its fan-out (already running)
    messenger.go_on.set()  # the fan-out goes on, queueing A's DMs and channel post after the uninstall
    await asyncio.wait_for(running, 30)
    await worker.run_due()

    assert await job_statuses(deps, A, "round.dm") == ["cancelled"]
    assert await job_statuses(deps, A, "round.post") == ["cancelled"]
    assert not messenger.dms("UA1") and not [s for s in messenger.sent if s.conversation == "CA"]
    assert len(messenger.dms("UB1")) == 1 and await job_statuses(deps, B, "round.close") == ["pending"]
    first = await uninstalled_at(deps, A)
    assert first == MONDAY and await uninstalled_at(deps, B) is None

    # delivered again (later): nothing more is cancelled, the date of the uninstall stays
    clock.advance(minutes=5)
    assert await events.workspace_uninstalled(deps, A) == 0
    assert await uninstalled_at(deps, A) == first

    # the workspace's data waits for the retention period; then the sweep deletes it, and only it
    clock.current = MONDAY + timedelta(days=29)
    await privacy.sweep(deps)
    assert await uninstalled_at(deps, A) == first
    clock.current = MONDAY + timedelta(days=31)
    assert (await privacy.sweep(deps))["workspaces"] == 1
    async with deps.db.transaction() as conn:
        left = set((await conn.execute(sa.select(workspaces.c.external_id))).scalars())
    assert left == {"TB"}
    await deps.db.dispose()


async def test_a_request_from_the_workspace_brings_its_jobs_back(database_url):
    clock = FixedClock(MONDAY)
    deps = build_deps(Settings(database_url=database_url), clock=clock, db=Database(database_url))
    messenger = FakeMessenger()
    deps.messengers["slack"] = messenger
    lead = messenger.add_person(A, "ULEAD", "Lead")
    messenger.add_person(A, "U1", "One")
    messenger.channels["CA"] = ["ULEAD", "U1"]
    worker = build_worker(deps)
    await events.workspace_uninstalled(deps, A)
    await events.workspace_seen(deps, B)  # another workspace's request changes nothing for A
    assert await uninstalled_at(deps, A) == MONDAY

    await events.workspace_seen(deps, A)  # the app is back (reinstalled, or someone used it)
    assert await uninstalled_at(deps, A) is None
    await rounds.share_insight(deps, author=lead, data=share("CA", "After the reinstall"))
    await worker.run_due()
    assert len(messenger.dms("U1")) == 1
    async with deps.db.transaction() as conn:
        assert (await repo.find_member(conn, lead)) is not None
    await deps.db.dispose()
