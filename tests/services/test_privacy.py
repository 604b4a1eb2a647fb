"""Personal data (reliability.md 29, 30): one person's export and erasure, and the retention sweep —
services against a real database (SQLite and PostgreSQL), the in-memory messenger, a fixed clock."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_deps, build_worker, start_features
from core.config import Settings
from core.domain.digest import week_of
from core.domain.focus import PlanRow, Start
from core.domain.meetings import CheckInput
from core.domain.refs import ChannelRef, PersonRef, WorkspaceRef
from core.domain.rounds import ShareInput
from core.messages.model import Message
from core.persistence import digest as digest_store
from core.persistence import focus as focus_store
from core.persistence import installations as install_store
from core.persistence import repository as repo
from core.persistence import teams as teams_store
from core.persistence.db import Database
from core.persistence.tables import jobs, metadata, rounds, seen_events, workspaces
from core.persistence.tables_focus import oauth_states
from core.ports import FixedClock
from core.services import digest, events, focus, meetings, privacy
from core.services import rounds as round_service
from tests.fakes.messenger import FakeMessenger

WS = WorkspaceRef("slack", "T1")
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
ANN_WORDS = ("ann-secret-one about mornings", "ann-secret-two about mornings", "ann-secret-three")
BOB_WORDS = ("bob says mornings", "bob likes mornings", "bob three")
TOKEN = "xoxp-ann-personal-token"


def share_input(title: str, deadline: date, **overrides) -> ShareInput:
    return ShareInput(title=title, link="", text="Read it", questions=("Q1?", "Q2?", "Q3?"), deadline=deadline,
                      share_mode="thread", channel_id="C1", **overrides)


async def make_world(url: str, **settings):
    clock = FixedClock(MONDAY)
    deps = build_deps(Settings(database_url=url, slack_signing_secret="signing-secret", **settings), clock=clock,
                      db=Database(url))
    messenger = FakeMessenger()
    deps.messengers["slack"] = messenger
    people = {name: messenger.add_person(WS, uid, name.title(), tz="Europe/Brussels", locale="en-GB")
              for name, uid in (("lea", "ULEAD"), ("ann", "UANN"), ("bob", "UBOB"))}
    messenger.channels["C1"] = ["ULEAD", "UANN", "UBOB"]
    return deps, messenger, build_worker(deps), clock, people


def round_of(messenger: FakeMessenger, title: str) -> int:
    post = next(s for s in messenger.sent if s.conversation == "C1" and s.thread is None
                and s.message.blocks[0].text == title)
    return int(post.message.blocks[-1].buttons[0].value)


@pytest.fixture
async def world(database_url):
    """Lea shares "Lea's round" (closed by the end of the setup, summary stored and posted) and "Lea's
    later round" (open; Ann has not answered it, her reminder is pending). Ann shares "Ann's own
    round" (open; Bob answered it). Ann answered Lea's round, as did Bob. Ann also has a focus session
    running, a planned block, a goal, a connected token, an OAuth state and a meeting check."""
    deps, messenger, worker, clock, p = await make_world(database_url)
    await round_service.share_insight(deps, author=p["lea"], data=share_input("Lea's round", date(2026, 12, 4)))
    await round_service.share_insight(deps, author=p["lea"], data=share_input("Lea's later round",
                                                                              date(2026, 12, 18)))
    await round_service.share_insight(deps, author=p["ann"], data=share_input("Ann's own round",
                                                                              date(2026, 12, 11)))
    await worker.run_due()
    leas, later, anns = (round_of(messenger, t) for t in ("Lea's round", "Lea's later round", "Ann's own round"))
    await round_service.record_answer(deps, person=p["ann"], round_id=leas, texts=ANN_WORDS)
    await round_service.record_answer(deps, person=p["bob"], round_id=leas, texts=BOB_WORDS)
    await round_service.record_answer(deps, person=p["bob"], round_id=anns, texts=("bob on ann", "b", "c"))
    await worker.run_due()
    clock.current = datetime(2026, 12, 4, 16, 0, tzinfo=timezone.utc)  # Lea's round closes
    await worker.run_due()
    await focus.save_user_token(deps, person=p["ann"], token=TOKEN, scopes="users.profile:write,dnd:write")
    await focus.start_focus(deps, person=p["ann"], start=Start(90, topic="ann-secret-topic"))
    await focus.save_plan(deps, person=p["ann"], rows=(PlanRow("2026-12-07", "09:00", "60"),))
    await focus.focus_command(deps, person=p["ann"], text="goal 6h")
    await meetings.run_check(deps, person=p["ann"], channel_id="C1", data=CheckInput(
        "status", "ann-secret-agenda", "6", "30", "weekly", "yes", "no"))
    async with deps.db.transaction() as conn:
        ann = await repo.find_member(conn, p["ann"])
        await focus_store.save_state(conn, "state-ann", ann.id, clock.current + timedelta(minutes=10))
    await worker.run_due()
    # Ann and Bob just sent answers to Lea's later round; no worker has stored them yet
    await round_service.submit_answer(deps, person=p["ann"], round_id=later, texts=("ann-secret-sent", "a", "b"))
    await round_service.submit_answer(deps, person=p["bob"], round_id=later, texts=("bob-sent", "a", "b"))
    yield deps, messenger, worker, clock, p, {"leas": leas, "later": later, "anns": anns}
    await deps.db.dispose()


async def everything(deps) -> str:
    """Every row of every table, as text: to prove something is nowhere."""
    out = []
    async with deps.db.transaction() as conn:
        for table in metadata.sorted_tables:
            out += [f"{table.name}: {tuple(row)}" for row in (await conn.execute(sa.select(table))).all()]
    return "\n".join(out)


async def member_id(deps, person: PersonRef) -> int:
    async with deps.db.transaction() as conn:
        return (await repo.find_member(conn, person)).id


async def test_export_holds_all_of_the_persons_rows_and_nobody_elses(world):
    deps, _m, _w, _c, p, ids = world
    ann = await member_id(deps, p["ann"])
    exported = await privacy.export_person(deps, p["ann"])
    tables = exported["tables"]
    assert exported["person"] == {"platform": "slack", "workspace": "T1", "id": "UANN"}
    assert [row["external_id"] for row in tables["members"]] == ["UANN"]
    assert [row["title"] for row in tables["rounds"]] == ["Ann's own round"]
    assert [(row["round_id"], tuple(row["texts"])) for row in tables["answers"]] == [(ids["leas"], ANN_WORDS)]
    assert sorted(row["round_id"] for row in tables["recipients"]) == sorted([ids["leas"], ids["later"]])
    assert [row["topic"] for row in tables["focus_sessions"]] == ["ann-secret-topic"]
    assert len(tables["focus_blocks"]) == 1 and tables["focus_goals"][0]["weekly_minutes"] == 360
    assert [row["agenda"] for row in tables["meeting_checks"]] == ["ann-secret-agenda"]
    [token] = tables["user_tokens"]
    assert token["connected"] is True and token["scopes"] == "users.profile:write,dnd:write"
    assert "token_encrypted" not in token
    assert [set(row) for row in tables["oauth_states"]] == [{"member_id", "expires_at"}]
    kinds = {row["key"].split(":")[0] for row in tables["jobs"]}
    assert {"answer", "answers-in", "remind", "close", "focus.end", "focus.block"} <= kinds
    text = json.dumps(exported)
    assert "ann-secret-sent" in text
    for secret in (TOKEN, "state-ann", "Bob", "UBOB", "ULEAD", "bob on ann", "bob says", "bob-sent", "Lea's round"):
        assert secret not in text
    # every row is Ann's own: no other person's member id anywhere in it
    for table, rows in tables.items():
        for row in rows:
            owner = {"members": row.get("id"), "rounds": row.get("author_id")}.get(table, row.get("member_id"))
            if table == "jobs":
                owner = row["payload"].get("member", ann)
            elif table == "teams_conversations":
                continue
            assert owner == ann, (table, row)


async def test_erase_removes_the_person_everywhere_keeps_the_team_figures_and_replaces_their_posts(world):
    deps, messenger, worker, clock, p, ids = world
    bob_answer = (await privacy.export_person(deps, p["bob"]))["tables"]["answers"]
    reply = next(a for a in (await privacy.export_person(deps, p["ann"]))["tables"]["answers"])
    async with deps.db.transaction() as conn:
        before = {r: (await repo.get_round(conn, r)).asked for r in ids.values()}

    erased = await privacy.erase_person(deps, p["ann"])
    assert erased.rows["members"] == 1 and erased.rows["answers"] == 1 and erased.rows["jobs"] > 0
    assert erased.retracted == 2  # her answer in Lea's thread, the channel post of her own round

    assert (await privacy.export_person(deps, p["ann"]))["tables"] == {}
    stored = await everything(deps)
    for trace in ("UANN", "ann-secret", "Ann's own round", "DUANN", "Ann"):
        assert trace not in stored
    assert (await privacy.export_person(deps, p["bob"]))["tables"]["answers"] == bob_answer[:1]  # Ann's round's went

    async with deps.db.transaction() as conn:
        assert await repo.get_round(conn, ids["anns"]) is None
        after = {r: (await repo.get_round(conn, r)).asked for r in (ids["leas"], ids["later"])}
        summary = round_service.summary_from_json((await repo.get_summary(conn, ids["leas"])).body)
        pending = (await conn.execute(sa.select(jobs.c.payload).where(jobs.c.status == "pending"))).scalars().all()
    assert after == {ids["leas"]: before[ids["leas"]] - 1, ids["later"]: before[ids["later"]] - 1}
    assert (summary.answered, summary.asked) == (1, after[ids["leas"]])
    assert all(q.answered == 1 for q in summary.questions)
    quoted = {q.answer_id for item in summary.questions for q in item.quotes + sum((t.quotes for t in item.themes), ())}
    assert reply["id"] not in quoted and quoted  # Bob's quotes stay
    assert not [payload for payload in pending if payload.get("round") == ids["anns"]]
    assert [payload["texts"][0] for payload in pending if "texts" in payload] == ["bob-sent"]  # Bob's stays

    # the weekly digest still adds up: one answer, from one person, of one asked
    async with deps.db.transaction() as conn:
        context = await digest_store.find_channel(conn, ChannelRef(WS, "C1"))
        built = await digest.build_digest(conn, context, week_of(clock.current, context.tz), clock.current)
    [line] = [line for line in built.closed if line.id == ids["leas"]]
    assert (line.answered, line.asked) == (1, 1)
    assert (built.participation.answers, built.participation.answerers) == (1, 1)
    assert isinstance(await digest.current_digest(deps, person=p["lea"], channel=ChannelRef(WS, "C1")), Message)

    # her thread reply and her round's channel post are replaced by a note (no delete in the port)
    await worker.run_due()
    notes = {(u.conversation, u.id) for u in messenger.updates
             if u.message.fallback == "Removed at the request of the person who wrote it."}
    assert (reply["reply_conversation"], reply["reply_id"]) in notes and len(notes) == 2
    async with deps.db.transaction() as conn:
        dead = (await conn.execute(sa.select(jobs.c.key, jobs.c.last_error).where(jobs.c.status == "dead"))).all()
    assert dead == []

    assert await privacy.erase_person(deps, p["ann"]) == privacy.Erased({}, 0)  # again: nothing more


async def test_a_teams_persons_chat_and_install_reference_are_theirs(database_url):
    deps, _m, _w, clock, _p = await make_world(database_url)
    tenant = WorkspaceRef("teams", "tenant-1")
    ann, bob = PersonRef(tenant, "29:ann"), PersonRef(tenant, "29:bob")
    async with deps.db.transaction() as conn:
        for person in (ann, bob):
            await teams_store.remember_person(conn, person, now=clock.current, name=person.id)
            await teams_store.save_reference(conn, tenant, teams_store.PERSON, person.id,
                                             {"conversation": {"id": f"a:{person.id}"}, "user": {"id": person.id}},
                                             now=clock.current)
        await teams_store.save_reference(conn, tenant, teams_store.INSTALL, "team-1",
                                         {"conversation": {"id": "19:team"}, "user": {"id": "29:ann"}},
                                         now=clock.current, team_id="team-1")
    exported = (await privacy.export_person(deps, ann))["tables"]["teams_conversations"]
    assert sorted(row["kind"] for row in exported) == ["install", "person"]
    await privacy.erase_person(deps, ann)
    async with deps.db.transaction() as conn:
        assert await teams_store.installer(conn, tenant, "team-1") is None
        assert await teams_store.get_reference(conn, tenant, teams_store.PERSON, "29:bob") is not None
    assert (await privacy.export_person(deps, ann))["tables"] == {}
    await deps.db.dispose()


async def test_who_installed_the_app_is_forgotten_but_the_workspaces_installation_stays(database_url):
    deps, _m, _w, clock, p = await make_world(database_url)  # Ann installed the app, never used it
    async with deps.db.transaction() as conn:
        workspace_id = await repo.ensure_workspace(conn, WS, now=clock.current)
        await install_store.save_installation(conn, workspace_id, app_id="A1", bot_id="B1", bot_user_id="UBOT",
                                              bot_token_encrypted="encrypted-bot-token", installer_id="UANN",
                                              installed_at=clock.current)
    [exported] = (await privacy.export_person(deps, p["ann"]))["tables"]["installations"]
    assert exported["installer_id"] == "UANN" and "bot_token_encrypted" not in exported
    assert "installations" not in (await privacy.export_person(deps, p["bob"]))["tables"]
    erased = await privacy.erase_person(deps, p["ann"])
    assert erased.rows["installations.installer_id"] == 1
    async with deps.db.transaction() as conn:
        installation = await install_store.get_installation(conn, WS)
    assert installation.installer_id is None and installation.bot_user_id == "UBOT"
    assert (await privacy.export_person(deps, p["ann"]))["tables"] == {}
    await deps.db.dispose()


# --- retention ------------------------------------------------------------------------------------------
async def counts(deps) -> dict[str, int]:
    async with deps.db.transaction() as conn:
        return {table.name: (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
                for table in metadata.sorted_tables}


async def one_round(deps, worker, clock, p, messenger, title: str, start: datetime) -> int:
    """A round shared at `start`, answered by Ann, closed at its deadline four days later."""
    clock.current = start
    await round_service.share_insight(deps, author=p["lea"], data=share_input(title, (start + timedelta(days=4)).date()))
    await worker.run_due()
    round_id = round_of(messenger, title)
    await round_service.record_answer(deps, person=p["ann"], round_id=round_id, texts=ANN_WORDS)
    await worker.run_due()
    clock.current = start + timedelta(days=5)
    await worker.run_due()
    return round_id


async def test_the_sweep_deletes_what_is_older_than_the_period_and_nothing_more_when_run_again(database_url):
    deps, messenger, worker, clock, p = await make_world(database_url, unmeet_retention_days=30)
    old = await one_round(deps, worker, clock, p, messenger, "Old round", MONDAY)
    await focus.start_focus(deps, person=p["ann"], start=Start(30, topic="old focus"))
    await meetings.run_check(deps, person=p["ann"], channel_id="C1", data=CheckInput(
        "status", "old agenda", "6", "30", "once", "yes", "no"))
    await events.workspace_uninstalled(deps, WorkspaceRef("slack", "T-GONE-LONG-AGO"))
    await worker.run_due()

    new = await one_round(deps, worker, clock, p, messenger, "New round", MONDAY + timedelta(days=40))
    await focus.start_focus(deps, person=p["ann"], start=Start(30, topic="new focus"))
    await meetings.run_check(deps, person=p["ann"], channel_id="C1", data=CheckInput(
        "status", "new agenda", "6", "30", "once", "yes", "no"))
    await events.workspace_uninstalled(deps, WorkspaceRef("slack", "T-GONE-RECENTLY"))
    now = clock.current = MONDAY + timedelta(days=46)
    async with deps.db.transaction() as conn:
        ann = (await repo.find_member(conn, p["ann"])).id
        await conn.execute(sa.insert(seen_events), [
            {"event_id": "Ev-old", "seen_at": now - timedelta(days=2)},
            {"event_id": "Ev-new", "seen_at": now - timedelta(hours=2)},
            {"event_id": f"{teams_store.CARD_PREFIX}nonce", "seen_at": now - timedelta(days=2)}])
        await focus_store.save_state(conn, "expired", ann, now - timedelta(minutes=1))
        await focus_store.save_state(conn, "valid", ann, now + timedelta(minutes=5))

    before = await counts(deps)
    deleted = await privacy.sweep(deps)
    assert deleted["rounds"] == 1 and deleted["workspaces"] == 1 and deleted["focus_sessions"] == 1
    assert deleted["meeting_checks"] == 1 and deleted["seen_events"] == 1 and deleted["oauth_states"] == 1
    assert deleted["jobs"] > 0
    async with deps.db.transaction() as conn:
        assert await repo.get_round(conn, old) is None and await repo.get_round(conn, new) is not None
        assert await repo.get_summary(conn, old) is None and await repo.get_summary(conn, new) is not None
        assert await repo.find_answer(conn, old, ann) is None and await repo.find_answer(conn, new, ann)
        left = set((await conn.execute(sa.select(workspaces.c.external_id))).scalars())
        events_left = set((await conn.execute(sa.select(seen_events.c.event_id))).scalars())
        states = set((await conn.execute(sa.select(oauth_states.c.state))).scalars())
        old_jobs = (await conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
            jobs.c.status != "pending", jobs.c.finished_at < now - timedelta(days=30)))).scalar_one()
        recent_jobs = (await conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
            jobs.c.finished_at >= now - timedelta(days=30)))).scalar_one()
    assert left == {"T1", "T-GONE-RECENTLY"}
    assert events_left == {"Ev-new", f"{teams_store.CARD_PREFIX}nonce"} and states == {"valid"}
    assert old_jobs == 0 and recent_jobs > 0
    after = await counts(deps)
    assert after["answers"] == before["answers"] - 1 and after["recipients"] == before["recipients"] - 2
    assert after["summaries"] == before["summaries"] - 1  # the old round's rows went with it

    assert not any((await privacy.sweep(deps)).values())  # a second run changes nothing more
    assert await counts(deps) == after


async def test_retention_zero_keeps_everything_but_the_housekeeping(database_url):
    deps, messenger, worker, clock, p = await make_world(database_url, unmeet_retention_days=0)
    await one_round(deps, worker, clock, p, messenger, "Kept round", MONDAY)
    await events.workspace_uninstalled(deps, WorkspaceRef("slack", "T-GONE"))
    clock.current = MONDAY + timedelta(days=4000)
    async with deps.db.transaction() as conn:
        await conn.execute(sa.insert(seen_events).values(event_id="Ev-old", seen_at=MONDAY))
    deleted = await privacy.sweep(deps)
    assert {k: v for k, v in deleted.items() if v} == {"seen_events": 1}
    async with deps.db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(rounds))).scalar_one() == 1
        assert (await conn.execute(sa.select(sa.func.count()).select_from(workspaces))).scalar_one() == 2
    await deps.db.dispose()


async def test_the_sweep_runs_once_a_day_as_a_job(database_url):
    deps, _m, worker, clock, _p = await make_world(database_url)
    clock.current = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)
    await start_features(deps)
    await start_features(deps)  # every worker start seeds it; still one row
    await worker.run_due()
    async with deps.db.transaction() as conn:
        rows = dict((await conn.execute(sa.select(jobs.c.key, jobs.c.status).where(
            jobs.c.kind == privacy.SWEEP_KIND))).all())
    assert rows == {"privacy.sweep:2026-12-04": "done", "privacy.sweep:2026-12-05": "pending"}
    clock.current = datetime(2026, 12, 5, 0, 0, tzinfo=timezone.utc)
    await worker.run_due()
    async with deps.db.transaction() as conn:
        statuses = dict((await conn.execute(sa.select(jobs.c.key, jobs.c.status).where(
            jobs.c.kind == privacy.SWEEP_KIND))).all())
    assert statuses["privacy.sweep:2026-12-05"] == "done" and statuses["privacy.sweep:2026-12-06"] == "pending"
    await deps.db.dispose()


def test_every_encrypted_column_is_kept_out_of_exports():
    """Tokens and refresh tokens (token rotation) are stored encrypted; none of them is ever exported."""
    from core.persistence.privacy import SECRETS

    encrypted = {column for table in metadata.sorted_tables for column in table.columns
                 if column.name.endswith("_encrypted")}
    assert len(encrypted) == 4 and encrypted <= set(SECRETS)
