"""Focus and meeting-check services against a real database, the in-memory messenger and a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_worker
from core.config import Settings
from core.domain.focus import Category, PlanRow, Start
from core.domain.meetings import CheckInput
from core.domain.refs import PersonRef, WorkspaceRef
from core.domain.rounds import DEFAULT_QUESTIONS, ShareInput
from core.llm.offline import OfflineSummariser
from core.messages.model import Form, Message, plain_text
from core.persistence.tables_focus import focus_sessions, user_tokens
from core.ports import FixedClock
from core.services import focus, meetings, rounds, tokens
from core.services.deps import Deps
from tests.fakes.messenger import FakeMessenger, buttons, text_of

WS = WorkspaceRef("slack", "T1")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@dataclass
class RecordingSetter:
    """A platform that can show focus (the port); records what core asked of it."""

    calls: list = field(default_factory=list)
    revoked: set = field(default_factory=set)
    expired: set = field(default_factory=set)
    refreshes: list = field(default_factory=list)
    refuse_refresh: bool = False

    def authorize_url(self, state: str) -> str:
        return f"https://platform.example/authorize?state={state}"

    async def set_focus(self, token, *, text, emoji, until, minutes):
        if token in self.revoked:
            raise focus.TokenRevoked()
        if token in self.expired:
            raise focus.TokenExpired()
        self.calls.append(("set", token, text, until, minutes))

    async def refresh(self, refresh_token):
        self.refreshes.append(refresh_token)
        if self.refuse_refresh:
            raise tokens.RefreshRefused("invalid_refresh_token")
        return tokens.Grant(f"xoxp-renewed-{len(self.refreshes)}", f"xoxe-{len(self.refreshes)}", 43200)

    async def clear_focus(self, token):
        self.calls.append(("clear", token))


@pytest.fixture
async def world(db):
    messenger = FakeMessenger()
    ann = messenger.add_person(WS, "U1", "Ann", tz="Europe/Brussels", locale="en-GB")
    messenger.add_person(WS, "U0", "Lead", tz="Europe/Brussels")
    messenger.channels["C1"] = ["U0", "U1"]
    clock = FixedClock(utc(2026, 1, 5, 8))  # Monday 09:00 in Brussels
    setter = RecordingSetter()
    deps = Deps(db=db, clock=clock, settings=Settings(slack_signing_secret="signing-secret"),
                summariser=OfflineSummariser(), messengers={"slack": messenger}, status_setters={"slack": setter})
    worker = build_worker(deps)

    class World:
        pass

    w = World()
    w.deps, w.messenger, w.clock, w.setter, w.worker, w.ann = deps, messenger, clock, setter, worker, ann
    return w


async def test_without_a_token_the_session_is_recorded_and_connect_is_offered(world):
    reply = await focus.focus_command(world.deps, person=world.ann, text="1h30 writing the Q3 plan")
    assert "In focus until 10:30 on writing the Q3 plan" in text_of(reply)
    assert "connect your account" in text_of(reply)
    connect = [b for b in buttons(reply) if b.action == "focus.connect"]
    assert connect and "state=" in connect[0].url
    await world.worker.run_due()
    world.clock.advance(minutes=91)
    await world.worker.run_due()
    assert world.setter.calls == []


async def test_status_set_with_the_token_and_restored_at_the_end(world, db):
    await focus.save_user_token(world.deps, person=world.ann, token="xoxp-ann-secret", scopes="dnd:write")
    async with db.transaction() as conn:
        stored = (await conn.execute(sa.select(user_tokens.c.token_encrypted))).scalar_one()
    assert "xoxp" not in stored and "ann-secret" not in stored
    reply = await focus.focus_command(world.deps, person=world.ann, text="45m #reactive mails")
    assert "Your status shows it" in text_of(reply)
    await world.worker.run_due()
    assert world.setter.calls == [("set", "xoxp-ann-secret", "Focus time until 09:45", utc(2026, 1, 5, 8, 45), 45)]
    world.clock.advance(minutes=44)
    await world.worker.run_due()
    assert len(world.setter.calls) == 1  # not yet
    world.clock.advance(minutes=1)
    await world.worker.run_due()
    assert world.setter.calls[-1] == ("clear", "xoxp-ann-secret")
    async with db.transaction() as conn:
        row = (await conn.execute(sa.select(focus_sessions))).one()
    assert (row.ended_by, row.ended_at, row.status_set) == ("auto", utc(2026, 1, 5, 8, 45), False)


async def test_stop_ends_early_and_clears(world):
    await focus.save_user_token(world.deps, person=world.ann, token="xoxp-1", scopes="")
    await focus.focus_command(world.deps, person=world.ann, text="90")
    await world.worker.run_due()
    world.clock.advance(minutes=20)
    reply = await focus.focus_command(world.deps, person=world.ann, text="stop")
    assert "ended after 20 minutes" in text_of(reply) and "20 of 240" in text_of(reply)
    await world.worker.run_due()
    assert [c[0] for c in world.setter.calls] == ["set", "clear"]
    again = await focus.focus_command(world.deps, person=world.ann, text="stop")
    assert "not in a focus session" in text_of(again)


async def test_a_second_focus_replaces_the_running_one(world, db):
    await focus.save_user_token(world.deps, person=world.ann, token="xoxp-1", scopes="")
    await focus.focus_command(world.deps, person=world.ann, text="90 first")
    await world.worker.run_due()
    world.clock.advance(minutes=30)
    reply = await focus.focus_command(world.deps, person=world.ann, text="30 #stuff second")
    assert "earlier session (until 10:30) ended now" in text_of(reply)
    assert "In focus until 10:00 on second" in text_of(reply)
    await world.worker.run_due()
    assert world.setter.calls[-1][:3] == ("set", "xoxp-1", "Focus time until 10:00")
    world.clock.advance(minutes=30)
    await world.worker.run_due()
    assert world.setter.calls[-1] == ("clear", "xoxp-1")
    world.clock.advance(minutes=60)  # the first session's planned end: nothing more happens
    await world.worker.run_due()
    assert [c[0] for c in world.setter.calls] == ["set", "set", "clear"]
    week = await focus.focus_command(world.deps, person=world.ann, text="")
    assert "60 of 240 minutes" in text_of(week)


async def test_a_revoked_token_is_forgotten(world, db):
    await focus.save_user_token(world.deps, person=world.ann, token="xoxp-gone", scopes="")
    world.setter.revoked.add("xoxp-gone")
    await focus.focus_command(world.deps, person=world.ann, text="30")
    await world.worker.run_due()
    async with db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(user_tokens))).scalar_one() == 0


async def test_a_token_refused_as_expired_is_renewed_once_and_used(world, db):
    await focus.save_user_token(world.deps, person=world.ann, token="xoxp-old", scopes="", refresh_token="xoxe-0",
                                expires_in=43200)
    world.setter.expired.add("xoxp-old")
    await focus.focus_command(world.deps, person=world.ann, text="30")
    await world.worker.run_due()
    assert world.setter.refreshes == ["xoxe-0"]
    assert [(c[0], c[1]) for c in world.setter.calls] == [("set", "xoxp-renewed-1")]


async def test_a_token_whose_renewal_is_refused_for_good_is_forgotten(world, db):
    await focus.save_user_token(world.deps, person=world.ann, token="xoxp-old", scopes="", refresh_token="xoxe-0",
                                expires_in=3600)  # due for renewal
    world.setter.refuse_refresh = True
    await focus.focus_command(world.deps, person=world.ann, text="30")
    await world.worker.run_due()
    assert world.setter.refreshes == ["xoxe-0"] and world.setter.calls == []
    async with db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(user_tokens))).scalar_one() == 0


async def test_week_view_goal_categories_and_next_block(world):
    await focus.set_workspace_goal(world.deps, workspace=WS, minutes=300)
    assert await focus.workspace_goal(world.deps, workspace=WS) == 300
    await focus.start_focus(world.deps, person=world.ann, start=Start(60, Category.PROACTIVE))
    world.clock.advance(minutes=60)
    await focus.start_focus(world.deps, person=world.ann, start=Start(30, Category.REACTIVE))
    world.clock.advance(minutes=10)  # 10 minutes into the running one
    await focus.save_plan(world.deps, person=world.ann, rows=(PlanRow("2026-01-06", "09:00", "90"),))
    week = await focus.week_view(world.deps, person=world.ann)
    shown = text_of(week)
    assert "70 of 300 minutes (23%)" in shown
    assert "In focus until 10:30" in shown
    assert "Next planned block: Tuesday 6 January, 09:00 (90 min)" in shown
    fields = [b for b in week.blocks if type(b).__name__ == "Fields"][0]
    assert [(label, plain_text(value)) for label, value in fields.pairs] == [
        ("proactive", "60 minutes"), ("reactive", "10 minutes"), ("stuff", "0 minutes")]
    personal = await focus.focus_command(world.deps, person=world.ann, text="goal 120")
    assert "120 minutes" in text_of(personal)
    assert "70 of 120" in text_of(await focus.week_view(world.deps, person=world.ann))


async def test_planned_block_asks_at_its_start_and_starts_with_one_click(world):
    form = await focus.focus_command(world.deps, person=world.ann, text="plan")
    assert isinstance(form, Form) and form.inputs[0].options[1].value == "2026-01-05"
    bad = await focus.save_plan(world.deps, person=world.ann, rows=(PlanRow("2026-01-05", "8:00", "60"),
                                                                     PlanRow("2026-01-06", "10", "lots")))
    assert isinstance(bad, focus.Invalid)
    assert bad.form.errors == {"start0": "This block would start in the past. Pick a later time.",
                               "length1": "Give the length in minutes or hours, like 90 or 1h30."}
    assert bad.form.inputs[4].initial == "10"  # nothing typed is lost
    done = await focus.save_plan(world.deps, person=world.ann, rows=(PlanRow("2026-01-05", "14:00", "1h"),))
    assert "1 focus block planned" in text_of(done.message)
    world.clock.current = utc(2026, 1, 5, 13)
    await world.worker.run_due()
    [prompt] = world.messenger.dms("U1")
    assert "Your focus block starts now — start it?" in text_of(prompt.message)
    [start] = buttons(prompt.message)
    reply = await focus.start_block(world.deps, person=world.ann, block_id=int(start.value))
    assert "In focus until 15:00" in text_of(reply)
    twice = await focus.start_block(world.deps, person=world.ann, block_id=int(start.value))
    assert "already started" in text_of(twice)
    lead = world.messenger.add_person(WS, "U0", "Lead")
    assert "isn't yours" in text_of(await focus.start_block(world.deps, person=lead, block_id=int(start.value)))


async def test_tell_my_team_posts_a_note_in_the_persons_language(world):
    world.messenger.people["U1"] = world.messenger.people["U1"].__class__(world.ann, "Ann", locale="nl-BE",
                                                                          tz="Europe/Brussels")
    reply = await focus.focus_command(world.deps, person=world.ann, text="90 het Q3-plan")
    session_id = int([b for b in buttons(reply) if b.action == "focus.tell_team"][0].value)
    form = await focus.tell_team_form(world.deps, person=world.ann, session_id=session_id)
    assert isinstance(form, Form)
    for _ in range(2):  # asked twice (a double click): one note
        done = await focus.tell_team(world.deps, person=world.ann, session_id=session_id, channel_id="C1")
        assert "notitie" in text_of(done)
        await world.worker.run_due()
    [note] = [s for s in world.messenger.sent if s.conversation == "C1"]
    assert "Ann: in focus tot 10:30 aan het Q3-plan" in text_of(note.message)


async def test_a_note_that_cant_be_posted_is_told_and_can_be_asked_for_again(world):
    reply = await focus.focus_command(world.deps, person=world.ann, text="90")
    session_id = int([b for b in buttons(reply) if b.action == "focus.tell_team"][0].value)
    world.messenger.busy.add("C1")  # every post there is refused, for now
    await focus.tell_team(world.deps, person=world.ann, session_id=session_id, channel_id="C1")
    for _ in range(world.deps.settings.job_max_attempts):  # retried until the job gives up
        await world.worker.run_due()
        world.clock.advance(seconds=2)
    assert [s for s in world.messenger.sent if s.conversation == "C1"] == []
    [told] = world.messenger.dms("U1")
    assert "couldn't post your focus note" in text_of(told.message)
    assert [b.value for b in buttons(told.message) if b.action == "focus.tell_team"] == [str(session_id)]

    world.messenger.busy.clear()  # the person added the app to the channel and asks again
    await focus.tell_team(world.deps, person=world.ann, session_id=session_id, channel_id="C1")
    await world.worker.run_due()
    assert len([s for s in world.messenger.sent if s.conversation == "C1"]) == 1


async def test_reminders_wait_for_the_end_of_focus(world):
    lead = world.messenger.people["U0"].ref
    result = await rounds.share_insight(world.deps, author=lead, data=ShareInput(
        title="Story", text="Read this", questions=DEFAULT_QUESTIONS["en"], deadline=date(2026, 1, 7),
        channel_id="C1"))
    assert isinstance(result, rounds.Done)
    await world.worker.run_due()
    assert len(world.messenger.dms("U1")) == 1  # the questions
    world.clock.current = utc(2026, 1, 6, 14, 30)  # the reminder is due at 15:00 UTC (16:00 in Brussels)
    await focus.focus_command(world.deps, person=world.ann, text="90")
    world.clock.current = utc(2026, 1, 6, 15, 0)
    await world.worker.run_due()
    assert len(world.messenger.dms("U1")) == 1  # held back
    world.clock.current = utc(2026, 1, 6, 15, 40)
    await world.worker.run_due()
    assert len(world.messenger.dms("U1")) == 1
    world.clock.current = utc(2026, 1, 6, 16, 0)  # the session ends
    await world.worker.run_due()
    assert [s.message.fallback for s in world.messenger.dms("U1")][-1] == "Reminder: Story closes soon"


async def test_stopping_early_lets_a_held_reminder_go_at_once(world):
    lead = world.messenger.people["U0"].ref
    await rounds.share_insight(world.deps, author=lead, data=ShareInput(
        title="Story", text="Read this", questions=DEFAULT_QUESTIONS["en"], deadline=date(2026, 1, 7),
        channel_id="C1"))
    await world.worker.run_due()
    world.clock.current = utc(2026, 1, 6, 14, 30)
    await focus.focus_command(world.deps, person=world.ann, text="3h")
    world.clock.current = utc(2026, 1, 6, 15, 5)
    await world.worker.run_due()
    assert len(world.messenger.dms("U1")) == 1
    await focus.focus_command(world.deps, person=world.ann, text="stop")
    await world.worker.run_due()
    assert world.messenger.dms("U1")[-1].message.fallback == "Reminder: Story closes soon"


async def test_oauth_state_is_single_use_personal_and_expires(world):
    reply = await focus.focus_command(world.deps, person=world.ann, text="connect")
    url = buttons(reply)[0].url
    state = url.split("state=")[1]
    assert await focus.claim_connect_state(world.deps, "wrong") is None
    assert await focus.claim_connect_state(world.deps, "") is None
    assert await focus.claim_connect_state(world.deps, state) == world.ann
    assert await focus.claim_connect_state(world.deps, state) is None
    late = buttons(await focus.focus_command(world.deps, person=world.ann, text="connect"))[0].url.split("state=")[1]
    world.clock.advance(minutes=11)
    assert await focus.claim_connect_state(world.deps, late) is None


async def test_tokens_revoked_drops_only_those_people(world, db):
    bob = world.messenger.add_person(WS, "U2", "Bob")
    await focus.save_user_token(world.deps, person=world.ann, token="xoxp-a", scopes="")
    await focus.save_user_token(world.deps, person=bob, token="xoxp-b", scopes="")
    elsewhere = PersonRef(WorkspaceRef("slack", "T2"), "U1")  # the same user id in another workspace
    await focus.save_user_token(world.deps, person=elsewhere, token="xoxp-c", scopes="")
    assert await focus.drop_user_tokens(world.deps, workspace=WS, user_ids=["U1"]) == 1
    assert await focus.drop_user_tokens(world.deps, workspace=WS, user_ids=["U1"]) == 0  # delivered twice
    async with db.transaction() as conn:
        left = (await conn.execute(sa.select(user_tokens.c.member_id))).scalars().all()
    assert len(left) == 2  # Bob, and U1 of the other workspace
    assert await focus.drop_user_tokens(world.deps, workspace=WorkspaceRef("slack", "T2"), user_ids=["U1"]) == 1


async def test_meeting_check_is_stored_and_can_become_a_round(world):
    lead = world.messenger.people["U0"].ref
    form = await meetings.check_form(world.deps, person=lead, agenda="Weekly status of project X", channel_id="C1")
    assert form.inputs[1].initial == "Weekly status of project X"
    bad = await meetings.run_check(world.deps, person=lead, data=CheckInput(agenda="x", people="many"),
                                   channel_id="C1")
    assert isinstance(bad, meetings.Invalid)
    assert bad.form.errors["people"] == "Give the number of people as a whole number between 1 and 1000, like 6."
    assert bad.form.errors["purpose"] == "Choose what the meeting is for."
    checked = await meetings.run_check(world.deps, person=lead, channel_id="C1", data=CheckInput(
        "status", "Weekly status of project X\nEveryone's progress", "6", "30", "weekly", "yes", "no"))
    shown = text_of(checked.message)
    assert "Verdict: go async" in shown
    assert "Cost: 3 person-hours per meeting, 13 person-hours per month" in shown
    [to_async] = buttons(checked.message)
    share = await meetings.async_round_form(world.deps, person=world.ann, value=to_async.value)
    assert isinstance(share, Message)  # not Ann's check
    share = await meetings.async_round_form(world.deps, person=lead, value=to_async.value)
    assert share.id == "round.share"
    values = {i.id: i.initial for i in share.inputs}
    assert values["title"] == "Weekly status of project X" and "Everyone's progress" in values["text"]
    assert values["channel"] == "C1" and values["q1"] == DEFAULT_QUESTIONS["en"][0]
