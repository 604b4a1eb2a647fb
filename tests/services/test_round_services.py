"""The round services end to end in core: a real database (SQLite and PostgreSQL, so the repositories
run on both), the in-memory messenger, a fixed clock."""

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_deps, build_worker
from core.config import Settings
from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import ShareInput
from core.messages.model import Form, Notice, plain_text
from core.jobs import queue
from core.persistence import repository as repo
from core.persistence.db import Database
from core.persistence.tables import answers, jobs
from core.ports import FixedClock, RetryLater
from core.services import rounds
from core.services.rounds import HOME_REFRESH
from tests.fakes.messenger import FakeMessenger

WS = WorkspaceRef("slack", "T1")
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)  # 09:00 in Brussels


@pytest.fixture
async def world(database_url):
    url = database_url
    clock = FixedClock(MONDAY)
    deps = build_deps(Settings(database_url=url), clock=clock, db=Database(url))
    messenger = FakeMessenger()
    deps.messengers["slack"] = messenger
    lead = messenger.add_person(WS, "ULEAD", "Lea", tz="Europe/Brussels", locale="nl-BE")
    ann = messenger.add_person(WS, "UANN", "Ann", tz="Europe/Brussels", locale="en-US")
    bob = messenger.add_person(WS, "UBOB", "Bob", tz="America/New_York", locale="en-US")
    messenger.add_person(WS, "UBOT", "helper bot", is_bot=True)
    messenger.add_person(WS, "UGONE", "Gone", deleted=True)
    messenger.channels["C1"] = ["ULEAD", "UANN", "UBOB", "UBOT", "UGONE"]
    worker = build_worker(deps)
    yield deps, messenger, worker, clock, (lead, ann, bob)
    await deps.db.dispose()


def share_input(**overrides):
    values = dict(title="The café story <!channel>", link="https://example.org/story", text="Read it",
                  questions=("Q1?", "Q2?", "Q3?"), deadline=date(2026, 12, 4), share_mode="thread",
                  channel_id="C1")
    values.update(overrides)
    return ShareInput(**values)


async def test_share_form_is_in_the_authors_language_with_default_questions(world):
    deps, _m, _w, _c, (lead, _a, _b) = world
    form = await rounds.share_form(deps, author=lead, channel_id="C1")
    assert form.title == "Deel een inzicht"
    q1 = next(i for i in form.inputs if i.id == "q1")
    assert q1.initial == "In welk personage herken jij jezelf het meest en waarom?"


async def test_whole_round(world):
    deps, messenger, worker, clock, (lead, ann, bob) = world
    result = await rounds.share_insight(deps, author=lead, data=share_input())
    assert isinstance(result, rounds.Done)
    await worker.run_due()
    # DMs to humans except the author; none to the bot or the deleted person
    assert {s.conversation for s in messenger.sent if s.conversation.startswith("D")} == {"DUANN", "DUBOB"}
    [post] = [s for s in messenger.sent if s.conversation == "C1"]
    assert post.message.blocks[0].text == "The café story <!channel>"  # kept literally; renderers escape it
    round_id = int(post.message.blocks[-1].buttons[0].value)

    form = await rounds.answer_form(deps, person=ann, round_id=round_id)
    assert isinstance(form, Form) and form.title == "Your reflection"
    invalid = await rounds.record_answer(deps, person=ann, round_id=round_id, texts=("one", "", "three"))
    assert isinstance(invalid, rounds.Invalid) and set(invalid.form.errors) == {"a2"}
    assert invalid.form.inputs[0].initial == "one"  # nothing typed is lost
    await rounds.record_answer(deps, person=ann, round_id=round_id, texts=("one", "two", "three"))
    await worker.run_due()
    replies = [s for s in messenger.sent if s.thread == post.id]
    assert len(replies) == 1 and "Ann" in plain_text(replies[0].message.blocks[0].text)
    await rounds.record_answer(deps, person=ann, round_id=round_id, texts=("uno", "dos", "tres"))
    await worker.run_due()
    assert len([s for s in messenger.sent if s.thread == post.id]) == 1  # updated, not posted again
    assert "uno" in plain_text(messenger.updates[-1].message.blocks[1].text)

    # reminders: Thursday ~24h before Friday 17:00, only Bob (who has not answered), only once
    clock.current = datetime(2026, 12, 3, 23, 0, tzinfo=timezone.utc)
    await worker.run_due()
    await worker.run_due()
    assert len(messenger.dms("UBOB")) == 2 and len(messenger.dms("UANN")) == 1

    # close at the deadline: summary in the thread, post updated, answers refused afterwards
    clock.current = datetime(2026, 12, 4, 16, 0, tzinfo=timezone.utc)
    await worker.run_due()
    summary = [s for s in messenger.sent if s.thread == post.id][-1]
    assert summary.message.fallback == "Samenvatting van de ronde"  # the round speaks its author's language
    closed = await rounds.record_answer(deps, person=bob, round_id=round_id, texts=("a", "b", "c"))
    assert isinstance(closed.notice, Notice) and "closed" in plain_text(closed.notice.text)
    async with deps.db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(answers))).scalar() == 1
        dead = (await conn.execute(sa.select(jobs.c.key).where(jobs.c.status == "dead"))).all()
    assert dead == []


async def test_an_answer_given_before_the_channel_post_exists_follows_it_at_once(world):
    deps, messenger, worker, clock, (lead, ann, _b) = world
    messenger.busy.add("C1")
    await rounds.share_insight(deps, author=lead, data=share_input())
    await worker.run_due()
    assert not [s for s in messenger.sent if s.conversation == "C1"] and messenger.dms("UANN")
    round_id = int(messenger.dms("UANN")[0].message.blocks[-1].buttons[0].value)
    await rounds.record_answer(deps, person=ann, round_id=round_id, texts=("one", "two", "three"))
    await worker.run_due()  # the reply waits for the post (a retry some seconds later)

    messenger.busy.clear()
    clock.current = MONDAY + timedelta(seconds=1)  # the post's retry is due; the reply's retry is not yet
    await worker.run_due()
    [post] = [s for s in messenger.sent if s.conversation == "C1" and s.thread is None]
    assert [s.thread for s in messenger.sent if s.conversation == "C1" and s.thread] == [post.id]


async def test_outsiders_and_unknown_rounds_get_a_polite_notice(world):
    deps, messenger, worker, _c, (lead, ann, _b) = world
    await rounds.share_insight(deps, author=lead, data=share_input())
    await worker.run_due()
    stranger = messenger.add_person(WS, "USTRANGER", "Sam")
    result = await rounds.answer_form(deps, person=stranger, round_id=1)
    assert isinstance(result, Notice) and "Lea" in plain_text(result.text)
    assert isinstance(await rounds.answer_form(deps, person=ann, round_id=999), Notice)


async def test_large_channel_needs_confirmation_before_anything_is_sent(world):
    deps, messenger, worker, _c, (lead, _a, _b) = world
    messenger.channels["C2"] = ["ULEAD"] + [f"U{i}" for i in range(250)]
    result = await rounds.share_insight(deps, author=lead, data=share_input(channel_id="C2"))
    assert isinstance(result, rounds.Confirm)
    await worker.run_due()
    assert messenger.sent == []
    round_id = int(result.form.metadata)
    assert isinstance(await rounds.confirm_share(deps, author=lead, round_id=round_id), rounds.Done)
    again = await rounds.confirm_share(deps, author=lead, round_id=round_id)
    assert plain_text(again.notice.text) == "Deze ronde is al verstuurd."


async def test_validation_errors_come_back_in_the_authors_language_with_values_kept(world):
    deps, _m, _w, _c, (lead, _a, _b) = world
    result = await rounds.share_insight(deps, author=lead, data=share_input(link="javascript:alert(1)", text=""))
    assert isinstance(result, rounds.Invalid)
    assert result.form.errors["link"].startswith("Gebruik een volledig webadres")
    assert next(i for i in result.form.inputs if i.id == "link").initial == "javascript:alert(1)"


async def test_unreachable_member_is_marked_and_not_retried(world):
    deps, messenger, worker, _c, (lead, _a, bob) = world
    messenger.unreachable.add("UBOB")
    await rounds.share_insight(deps, author=lead, data=share_input())
    await worker.run_due()
    async with deps.db.transaction() as conn:
        member = await repo.find_member(conn, bob)
        statuses = dict((await conn.execute(sa.select(jobs.c.key, jobs.c.status))).all())
    assert member.unreachable == "blocked"
    assert statuses[f"dm:1:{member.id}"] == "done"  # not retried
    assert f"remind:1:{member.id}" not in statuses  # and never reminded


async def test_a_dm_retried_after_a_hiccup_asks_the_directory_once_and_keeps_what_it_said(world):
    deps, messenger, worker, clock, (lead, _a, bob) = world
    looked_up, hiccups = [], {"UBOB"}
    person, send_dm = messenger.person, messenger.send_dm

    async def counted_person(ref):
        looked_up.append(ref.id)
        return await person(ref)

    async def send_dm_after_a_hiccup(to, message, *, key=None):
        if to.id in hiccups:
            hiccups.discard(to.id)
            raise RetryLater("rate limited", seconds=1)
        return await send_dm(to, message, key=key)

    messenger.person, messenger.send_dm = counted_person, send_dm_after_a_hiccup
    await rounds.share_insight(deps, author=lead, data=share_input())
    await worker.run_due()
    assert not messenger.dms("UBOB") and len(messenger.dms("UANN")) == 1
    clock.advance(seconds=5)
    await worker.run_due()
    assert len(messenger.dms("UBOB")) == 1
    assert looked_up.count("UBOB") == 1  # the retry used what the first attempt learnt
    async with deps.db.transaction() as conn:
        stored = await repo.find_member(conn, bob)
        bot = await repo.find_member(conn, PersonRef(WS, "UBOT"))
    assert (stored.name, stored.tz, stored.refreshed_at) == ("Bob", "America/New_York", MONDAY)
    assert bot.is_bot and bot.refreshed_at == MONDAY


async def test_a_home_refresh_for_someone_erased_meanwhile_just_ends(world):
    deps, _m, worker, clock, _people = world
    async with deps.db.transaction() as conn:
        await queue.enqueue(conn, HOME_REFRESH, "home:1:999:open", {"member": 999}, due_at=clock.now(), now=clock.now())
    await worker.run_due()
    async with deps.db.transaction() as conn:
        assert (await conn.execute(sa.select(jobs.c.status, jobs.c.attempts))).all() == [("done", 1)]


async def test_the_worker_lets_requests_in_flight_go_first(world):
    import asyncio

    deps, _messenger, worker, _clock, _people = world
    with deps.foreground.request():
        started = asyncio.get_running_loop().time()
        await deps.foreground.quiet(at_most=0.2)  # still in flight: waits, but not for ever
        assert asyncio.get_running_loop().time() - started >= 0.19
        waiting = asyncio.create_task(deps.foreground.quiet())
        await asyncio.sleep(0.01)
        assert not waiting.done()
    await asyncio.wait_for(waiting, 0.2)  # the last request answered: background work goes on after a calm
    assert worker.foreground is deps.foreground

    # A gap shorter than the calm, as between the first two requests of a burst, doesn't count as quiet.
    with deps.foreground.request():
        pass
    waiting = asyncio.create_task(deps.foreground.quiet())
    with deps.foreground.request():
        await asyncio.sleep(0.1)
        assert not waiting.done()
    await asyncio.wait_for(waiting, 0.2)
