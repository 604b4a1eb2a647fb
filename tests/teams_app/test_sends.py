"""Sends under a job's key (`teams_sends`, teams_app/messenger.py) in this process, against the Bot
Connector fake: what ended is not sent again, a refusal is forgotten, a send cut off counts as sent for a
DM and is sent again for a channel post, a re-armed job sends anew, and the record goes with its job.
The crash itself, with real processes: test_crash.py."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.domain.refs import ChannelRef, PersonRef, Posted, WorkspaceRef
from core.jobs import queue
from core.jobs.worker import Permanent
from core.messages.model import Message, Section, rich
from core.persistence import privacy
from core.persistence import teams as store
from tests.fakes.bot_connector import DEFAULT_TENANT_ID, FakeBotConnector
from tests.fakes.teams_activities import TEAM_ID, personal_conversation_id
from tests.teams_app.conftest import ANN, BOB, teams_here

WORKSPACE = WorkspaceRef("teams", DEFAULT_TENANT_ID)
BOB_REF = PersonRef(WORKSPACE, BOB.id)
GENERAL = ChannelRef(WORKSPACE, TEAM_ID)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def message(text: str) -> Message:
    return Message((Section(rich(text)),), text)


@pytest.fixture
async def here(database_url):
    async with FakeBotConnector(rate_limits=False) as bc:
        bc.add_team(TEAM_ID, members=[ANN.member(), BOB.member()])
        async with teams_here(database_url, bc) as (deps, teams):
            bc.requests.clear()
            yield bc, deps, teams.messenger


def bob_dms(bc) -> list[dict]:
    return bc.activities(personal_conversation_id(BOB))


async def test_what_was_sent_under_a_key_is_not_sent_again(here):
    bc, _, messenger = here
    first = await messenger.send_dm(BOB_REF, message("one"), key="dm:1")
    assert await messenger.send_dm(BOB_REF, message("one"), key="dm:1") == first
    assert await messenger.find_sent(BOB_REF, "dm:1") == first and first.id == bob_dms(bc)[0]["id"]
    post = await messenger.post(GENERAL, message("hello"), key="post:1")
    assert await messenger.post(GENERAL, message("hello"), key="post:1") == post
    assert await messenger.find_sent(GENERAL, "post:1") == post
    assert len(bob_dms(bc)) == 1 and len(bc.activities(TEAM_ID)) == 1
    assert await messenger.find_sent(BOB_REF, "dm:2") is None
    await messenger.send_dm(BOB_REF, message("no key"))
    await messenger.send_dm(BOB_REF, message("no key"))
    assert len(bob_dms(bc)) == 3


async def test_two_workers_sending_the_same_dm_at_once_send_it_once(here):
    """A worker that stalled past its lease and the one that took its job over: both looked for an
    earlier send before either began one. The first to begin sends; the other doesn't."""
    import asyncio

    bc, _, messenger = here
    first, second = await asyncio.gather(messenger.send_dm(BOB_REF, message("once"), key="dm:race"),
                                         messenger.send_dm(BOB_REF, message("once"), key="dm:race"))
    assert len(bob_dms(bc)) == 1
    assert {first.conversation, second.conversation} == {personal_conversation_id(BOB)}
    post_a, post_b = await asyncio.gather(messenger.post(GENERAL, message("twice is fine"), key="post:race"),
                                          messenger.post(GENERAL, message("twice is fine"), key="post:race"))
    assert len(bc.activities(TEAM_ID)) in (1, 2)  # a channel post is at least once


async def test_a_send_teams_refused_is_forgotten_and_sent_on_the_next_try(here):
    bc, _, messenger = here
    bc.fail_next("send", 400)
    with pytest.raises(Permanent):
        await messenger.send_dm(BOB_REF, message("one"), key="dm:1")
    assert await messenger.find_sent(BOB_REF, "dm:1") is None
    posted = await messenger.send_dm(BOB_REF, message("one"), key="dm:1")
    assert [a["id"] for a in bob_dms(bc)] == [posted.id]


async def test_a_send_cut_off_counts_as_sent_for_a_dm_and_is_sent_again_for_a_post(here):
    bc, deps, messenger = here
    chat = personal_conversation_id(BOB)
    async with deps.db.transaction() as conn:  # what a worker that died mid-send leaves
        await store.begin_send(conn, WORKSPACE, "dm:1", chat, now=NOW)
        await store.begin_send(conn, WORKSPACE, "post:1", TEAM_ID, now=NOW)
    assert await messenger.find_sent(BOB_REF, "dm:1") == Posted(chat, "")
    assert await messenger.send_dm(BOB_REF, message("one"), key="dm:1") == Posted(chat, "")
    assert bob_dms(bc) == []  # at most once: it may have arrived
    assert await messenger.find_sent(GENERAL, "post:1") is None
    posted = await messenger.post(GENERAL, message("hello"), thread="1700000000001", key="post:1")
    assert posted.id.startswith("1700000000001/")
    assert await messenger.find_sent(GENERAL, "post:1", thread="1700000000001") == posted


async def test_a_rearmed_job_sends_anew(here):
    bc, deps, messenger = here
    async with deps.db.transaction() as conn:
        await queue.enqueue(conn, "x.dm", "dm:1", {}, due_at=NOW, now=NOW)
    await messenger.send_dm(BOB_REF, message("one"), key="dm:1")
    async with deps.db.transaction() as conn:
        await queue.enqueue(conn, "x.dm", "dm:1", {}, due_at=NOW, now=NOW, rearm=True)
    assert await messenger.find_sent(BOB_REF, "dm:1") is None
    await messenger.send_dm(BOB_REF, message("one, changed"), key="dm:1")
    await messenger.send_dm(BOB_REF, message("one, changed"), key="dm:1")
    assert len(bob_dms(bc)) == 2


async def test_the_record_of_a_send_goes_once_its_job_wont_run_again(here):
    _, deps, messenger = here
    async with deps.db.transaction() as conn:
        await queue.enqueue(conn, "x.dm", "dm:pending", {}, due_at=NOW, now=NOW)
    for key in ("dm:pending", "dm:no-job"):
        await messenger.send_dm(BOB_REF, message(key), key=key)
    async with deps.db.transaction() as conn:
        counts = await privacy.sweep(conn, now=NOW, cutoff=None)
    assert counts["teams_sends"] == 1
    assert await messenger.find_sent(BOB_REF, "dm:pending") is not None
    assert await messenger.find_sent(BOB_REF, "dm:no-job") is None


async def test_a_person_erased_takes_the_records_of_what_was_sent_to_them(here):
    from core.persistence import repository as repo
    from core.services import privacy as privacy_service

    _, deps, messenger = here
    async with deps.db.transaction() as conn:
        await store.remember_person(conn, BOB_REF, now=NOW, name=BOB.name)
        bob = await repo.find_member(conn, BOB_REF)
        await queue.enqueue(conn, "x.dm", f"dm:9:{bob.id}", {"member": bob.id}, due_at=NOW, now=NOW,
                            workspace_id=bob.workspace_id)
    await messenger.send_dm(BOB_REF, message("one"), key=f"dm:9:{bob.id}")
    await messenger.post(GENERAL, message("hello"), key="post:1")
    exported = (await privacy_service.export_person(deps, BOB_REF))["tables"]
    assert [row["key"] for row in exported["teams_sends"]] == [f"dm:9:{bob.id}"]
    erased = await privacy_service.erase_person(deps, BOB_REF)
    assert erased.rows["teams_sends"] == 1
    assert await messenger.find_sent(BOB_REF, f"dm:9:{bob.id}") is None
    assert await messenger.find_sent(GENERAL, "post:1") is not None
