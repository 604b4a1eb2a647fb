"""Programme mode's services against a real database (SQLite and PostgreSQL), the in-memory messenger,
a fixed clock and the real worker: the coach's form and its bad input, the cohort read from a channel,
the assignment DMs when a session starts (once, in each person's language, in working hours), completion
from the features' own events, the one reminder, the briefing, the late marks, the export, the copy, a
programme set up when it is already under way, and every message rendered for Slack and Teams."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_summariser, build_worker
from core.config import Settings
from core.domain import programmes as rules
from core.domain.programmes import Setup
from core.domain.refs import WorkspaceRef
from core.domain.rounds import reminder_time
from core.llm.offline import OfflineSummariser
from core.messages.model import Form, Message
from core.persistence.tables_programmes import programmes as programmes_table
from core.ports import FixedClock
from core.services import home, one_thing, privacy
from core.services import programmes as service
from core.services.deps import Deps
from slack_app import render as slack_render
from teams_app import render as teams_render
from tests.fakes.cards import assert_valid_card
from tests.fakes.messenger import FakeMessenger, buttons, text_of
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import block_kit_problems

WS = WorkspaceRef("slack", "T1")
UTC = timezone.utc
TZ = "Europe/Brussels"
NOW = datetime(2026, 3, 4, 10, tzinfo=UTC)  # a Wednesday, 11:00 in Brussels
DATES = (date(2026, 3, 9), date(2026, 3, 30), date(2026, 5, 4))  # session 2 is the day after the clocks go forward
SESSIONS = [rules.session_start(day, TZ).astimezone(UTC) for day in DATES]
TEMPLATE_TITLES = ("Choose your One Thing", "Do the Driver's Seat week",
                   "Plan your focus time (goal: 4 h a week) and tell your colleagues why",
                   "Share an insight with your team as a round, not a meeting",
                   "Hold the team meeting and publish an agreement; bring it to session 3")


def marks(shown: str, who: str) -> str:
    line = next(line for line in shown.splitlines() if line.startswith(who))
    return " ".join(line.split()[1:])


def rendered_everywhere(message: Message | Form) -> None:
    if isinstance(message, Form):
        assert block_kit_problems(slack_render.modal(message), "view") == []
        assert_valid_card(teams_render.form_card(message))
    else:
        assert block_kit_problems(slack_render.message(message), "message") == []
        assert_valid_card(teams_render.message_card(message))


@pytest.fixture
async def world(db):
    messenger = FakeMessenger()
    w = type("World", (), {})()
    w.ann = messenger.add_person(WS, "U1", "Ann", tz=TZ, locale="en-GB")
    w.bart = messenger.add_person(WS, "U2", "Bart", tz=TZ, locale="en-GB")
    w.chris = messenger.add_person(WS, "U3", "Chris", tz=TZ, locale="nl-BE")
    messenger.add_person(WS, "B1", "Helper", is_bot=True)
    messenger.channels["C1"] = ["U1", "U2", "U3", "B1"]
    w.clock = FixedClock(NOW)
    w.deps = Deps(db=db, clock=w.clock, settings=Settings(slack_signing_secret="s"), summariser=OfflineSummariser(),
                  messengers={"slack": messenger})
    w.messenger, w.worker, w.db = messenger, build_worker(w.deps), db
    return w


async def at(w, moment: datetime) -> None:
    w.clock.current = moment
    await w.worker.run_due()


def programme_dms(w, user: str, reminders: bool = False) -> list:
    prefix = "programme-remind:" if reminders else "programme-open:"
    # in the order of the assignments (the worker sends the DMs of one moment concurrently)
    sent = [s for s in w.messenger.dms(user) if (s.key or "").startswith(prefix)]
    return sorted(sent, key=lambda s: int(s.key.split(":")[1]))


async def set_up(w, name="Leads spring", dates=DATES, titles=TEMPLATE_TITLES, metadata=None):
    form = await service.new_form(w.deps, person=w.ann, channel_id="C1")
    done = await service.submit_setup(w.deps, person=w.ann, setup=Setup(name, "C1", dates, titles),
                                      metadata=metadata or form.metadata)
    assert isinstance(done, service.Done), done
    await w.worker.run_due()  # the cohort is read from the channel
    return done


async def test_the_form_starts_from_the_template_and_bad_input_keeps_what_was_typed(world):
    w = world
    form = await service.new_form(w.deps, person=w.ann, channel_id="C1")
    rendered_everywhere(form)
    initial = {i.id: i.initial for i in form.inputs}
    assert initial["name"] == "Value creation trajectory" and initial["channel"] == "C1"
    assert [initial[f"session{n}"] for n in (1, 2, 3)] == [date(2026, 3, 9), date(2026, 3, 30), date(2026, 5, 4)]
    assert tuple(initial[f"assignment{i}"] for i in range(5)) == TEMPLATE_TITLES

    typed = Setup("x" * 151, "", (date(2026, 3, 9), date(2026, 3, 9), date(2026, 3, 3)), ("", "", "y" * 301))
    bad = await service.submit_setup(w.deps, person=w.ann, setup=typed, metadata=form.metadata)
    assert isinstance(bad, service.Invalid)
    errors = bad.form.errors
    assert "under 150 characters (it has 151)" in errors["name"]
    assert errors["channel"] == "Choose the channel whose members are the cohort."
    assert errors["session2"] == errors["session3"] == "Each session must come after the one before."
    assert "under 300 characters (it has 301)" in errors["assignment2"]
    kept = {i.id: i.initial for i in bad.form.inputs}
    assert kept["name"] == "x" * 151 and kept["assignment2"] == "y" * 301 and kept["session3"] == date(2026, 3, 3)
    rendered_everywhere(bad.form)

    past = await service.submit_setup(w.deps, person=w.ann, metadata=form.metadata, setup=Setup(
        "Old", "C1", (date(2026, 1, 5), date(2026, 2, 2), date(2026, 3, 2)), TEMPLATE_TITLES))
    assert past.form.errors == {"session3": "The last session can't be in the past."}
    empty = await service.submit_setup(w.deps, person=w.ann, metadata=form.metadata,
                                       setup=Setup("None", "C1", DATES, ("",) * 5))
    assert empty.form.errors == {"assignment0": "Keep at least one assignment."}
    async with w.db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(programmes_table))).scalar_one() == 0


async def test_each_assignment_reaches_each_participant_once_when_its_session_starts(world):
    w = world
    done = await set_up(w, titles=TEMPLATE_TITLES[:1] + ("My own wording",) + TEMPLATE_TITLES[2:])
    assert "“Leads spring” is set up" in text_of(done.message)
    shown = text_of(await service.status(w.deps, person=w.ann))
    assert "Bart" in shown and "Chris" in shown and "Helper" not in shown
    assert marks(shown, "Bart") == "1· 2· 3· 4· 5·"

    await at(w, SESSIONS[0] - timedelta(minutes=5))
    assert programme_dms(w, "U2") == []
    await at(w, SESSIONS[0] + timedelta(minutes=30))
    bart, chris = programme_dms(w, "U2"), programme_dms(w, "U3")
    assert len(bart) == len(chris) == 3  # what opens after session 1
    assert "Your assignment for “Leads spring”" in text_of(bart[0].message)
    assert "Choose your One Thing" in text_of(bart[0].message) and "Monday 30 March" in text_of(bart[0].message)
    assert "Je opdracht voor" in text_of(chris[0].message) and "Kies je One Thing" in text_of(chris[0].message)
    assert "My own wording" in text_of(chris[1].message)  # the coach's own words, as written
    assert [b.action for m in bart for b in buttons(m.message)] == ["onething.record", "seat.start", "focus.plan"]
    for sent in bart + chris:
        rendered_everywhere(sent.message)
    await at(w, SESSIONS[0] + timedelta(days=2))
    assert len(programme_dms(w, "U2")) == 3 and w.messenger.dms("U1") == []  # never twice; the coach has none


async def test_completion_comes_from_the_feature_one_reminder_the_briefing_and_late_marks(world):
    w = world
    await set_up(w)
    w.clock.current = SESSIONS[0] - timedelta(days=1)
    await one_thing.save_one_thing(w.deps, person=w.bart, text="Before the programme", share=None)
    await at(w, SESSIONS[0] + timedelta(hours=1))
    shown = text_of(await service.status(w.deps, person=w.ann))
    assert marks(shown, "Bart") == "1⏳ 2⏳ 3⏳ 4· 5·"  # a One Thing from before it was given does not count

    w.clock.current = SESSIONS[0] + timedelta(days=1)
    await one_thing.save_one_thing(w.deps, person=w.bart, text="Ask before assuming", share=None)
    shown = text_of(await service.status(w.deps, person=w.ann))
    assert marks(shown, "Bart") == "1✅ 2⏳ 3⏳ 4· 5·" and marks(shown, "Chris") == "1⏳ 2⏳ 3⏳ 4· 5·"

    remind_at = reminder_time(SESSIONS[1], TZ, SESSIONS[1] - timedelta(days=5))
    assert remind_at == datetime(2026, 3, 27, 15, tzinfo=UTC)  # the Friday before, 16:00 in Brussels
    await at(w, remind_at - timedelta(minutes=1))
    assert programme_dms(w, "U2", reminders=True) == []
    await at(w, remind_at)
    bart, chris = programme_dms(w, "U2", reminders=True), programme_dms(w, "U3", reminders=True)
    assert len(bart) == 2 and not any("One Thing" in text_of(m.message) for m in bart)
    assert len(chris) == 3 and "Herinnering van" in text_of(chris[0].message)
    [briefing] = [s for s in w.messenger.dms("U1") if s.key == "programme-brief:1:2"]
    assert "Briefing for session 2" in text_of(briefing.message)
    assert "Choose your One Thing: 1 of 2 done (0 late)" in text_of(briefing.message)
    assert "What the cohort shared with you" not in text_of(briefing.message)  # no model: the figures only
    rendered_everywhere(briefing.message)

    await at(w, SESSIONS[1] + timedelta(hours=1))
    assert len(programme_dms(w, "U2", reminders=True)) == 2  # none after the session
    assert len(programme_dms(w, "U2")) == 3 + 2  # what opens after session 2
    shown = text_of(await service.status(w.deps, person=w.ann))
    assert marks(shown, "Bart") == "1✅ 2⚠️ 3⚠️ 4⏳ 5⏳" and marks(shown, "Chris") == "1⚠️ 2⚠️ 3⚠️ 4⏳ 5⏳"
    w.clock.current = SESSIONS[1] + timedelta(days=1)
    await one_thing.save_one_thing(w.deps, person=w.chris, text="Eerst vragen", share=None)
    assert marks(text_of(await service.status(w.deps, person=w.ann)), "Chris") == "1⚠️ 2⚠️ 3⚠️ 4⏳ 5⏳"

    export = await service.export(w.deps, person=w.ann)
    [file] = export.attachments
    rows = list(csv.reader(io.StringIO(file.content.decode())))
    assert rows[0] == ["participant", "assignment", "status"] and len(rows) == 1 + 2 * 5
    assert ["Bart", "Choose your One Thing", "done"] in rows and ["Chris", "Choose your One Thing", "late"] in rows
    assert ["Bart", "Share an insight with your team as a round, not a meeting", "open"] in rows

    await at(w, reminder_time(SESSIONS[2], TZ, SESSIONS[1]))  # the Friday before session 3
    [third] = [s for s in w.messenger.dms("U1") if s.key == "programme-brief:1:3"]
    assert "Briefing for session 3" in text_of(third.message)
    assert "Choose your One Thing: 2 of 2 done (1 late)" in text_of(third.message)
    assert "Hold the team meeting and publish an agreement; bring it to session 3: 0 of 2 done" in text_of(third.message)


async def test_a_participant_sees_only_their_own_and_cannot_export(world):
    w = world
    await set_up(w)
    mine = text_of(await service.status(w.deps, person=w.bart))
    assert "Choose your One Thing" in mine and "Chris" not in mine and "Ann" not in mine
    assert "Only the programme's coach" in text_of(await service.export(w.deps, person=w.bart))
    nl = text_of(await service.status(w.deps, person=w.chris))
    assert "Kies je One Thing" in nl and "nog niet" in nl
    stranger = w.messenger.add_person(WS, "U9", "Dirk", tz=TZ)
    assert "no programme yet" in text_of(await service.status(w.deps, person=stranger))


async def test_the_coach_copies_a_programme_for_the_next_cohort(world):
    w = world
    assert "nothing to copy" in text_of(await service.programme_command(w.deps, person=w.ann, text="copy",
                                                                        channel_id="C1"))
    await set_up(w, titles=TEMPLATE_TITLES[:1] + ("My own wording",) + TEMPLATE_TITLES[2:])
    w.clock.current = SESSIONS[2] + timedelta(days=3)
    form = await service.programme_command(w.deps, person=w.ann, text="kopieer", channel_id="C1")
    initial = {i.id: i.initial for i in form.inputs}
    assert initial["name"] == "Leads spring" and initial["assignment1"] == "My own wording"
    assert initial["session1"] == date(2026, 5, 11)  # next week's Monday
    done = await service.submit_setup(w.deps, person=w.ann, metadata=form.metadata, setup=Setup(
        "Leads autumn", "C1", (date(2026, 5, 11), date(2026, 6, 1), date(2026, 7, 6)),
        tuple(initial[f"assignment{i}"] for i in range(5))))
    assert isinstance(done, service.Done)
    async with w.db.transaction() as conn:
        rows = (await conn.execute(sa.select(programmes_table.c.name, programmes_table.c.copied_from)
                                   .order_by(programmes_table.c.id))).all()
    assert [(r.name, r.copied_from) for r in rows] == [("Leads spring", None), ("Leads autumn", 1)]


async def test_a_programme_set_up_when_it_is_under_way(world):
    """Session 1 was last week: what it opened goes out now (in working hours); nothing whose session
    has passed is sent."""
    w = world
    w.clock.current = datetime(2026, 3, 14, 10, tzinfo=UTC)  # a Saturday
    await set_up(w, dates=(date(2026, 3, 9), date(2026, 3, 30), date(2026, 5, 4)))
    assert programme_dms(w, "U2") == []
    await at(w, datetime(2026, 3, 16, 8, 1, tzinfo=UTC))  # Monday 09:01 in Brussels
    assert len(programme_dms(w, "U2")) == 3

    w.clock.current = datetime(2026, 4, 1, 10, tzinfo=UTC)  # after session 2
    await set_up(w, name="Late start", dates=(date(2026, 3, 2), date(2026, 3, 30), date(2026, 5, 4)))
    await at(w, datetime(2026, 4, 1, 10, 1, tzinfo=UTC))
    late = [s for s in programme_dms(w, "U2") if "Late start" in text_of(s.message)]
    assert len(late) == 2  # only what opens after session 2


async def test_the_coach_takes_someone_out_and_someone_who_joins_later_gets_what_is_still_to_do(world):
    w = world
    await set_up(w)
    await at(w, SESSIONS[0] + timedelta(minutes=30))
    assert "Mention the participant" in text_of(await service.programme_command(
        w.deps, person=w.ann, text="remove", channel_id="C1"))
    refused = await service.programme_command(w.deps, person=w.bart, text="remove", channel_id="C1", who=w.chris)
    assert "Only the programme's coach" in text_of(refused)
    removed = await service.programme_command(w.deps, person=w.ann, text="remove <@U3>", channel_id="C1", who=w.chris)
    assert "Chris is no longer in “Leads spring”" in text_of(removed)
    again = await service.programme_command(w.deps, person=w.ann, text="verwijder", channel_id="C1", who=w.chris)
    assert "Chris is not in the cohort" in text_of(again)

    dirk = w.messenger.add_person(WS, "U4", "Dirk", tz=TZ, locale="en-GB")
    w.messenger.channels["C1"].append("U4")
    await at(w, SESSIONS[0] + timedelta(days=1, hours=1))  # the channel is read again each day
    shown = text_of(await service.status(w.deps, person=w.ann))
    assert "Dirk" in shown and "Chris" not in shown
    assert len(programme_dms(w, "U4")) == 3
    assert "nog geen traject" in text_of(await service.status(w.deps, person=w.chris))

    await at(w, datetime(2026, 3, 27, 15, tzinfo=UTC))  # the reminders' moment
    assert programme_dms(w, "U3", reminders=True) == [] and len(programme_dms(w, "U4", reminders=True)) == 3
    await at(w, SESSIONS[1] + timedelta(hours=1))
    assert len(programme_dms(w, "U3")) == 3 and len(programme_dms(w, "U4")) == 3 + 2
    assert "Choose your One Thing" in text_of(await service.status(w.deps, person=dirk))


async def test_a_participants_data_is_exported_and_erased_and_the_sweep_ends_old_programmes(world):
    w = world
    await set_up(w)
    w.clock.current = SESSIONS[0] + timedelta(days=1)
    await one_thing.save_one_thing(w.deps, person=w.bart, text="Ask before assuming", share=None)
    exported = await privacy.export_person(w.deps, w.bart)
    assert {"programme_participants", "completions"} <= set(exported["tables"])
    assert "programmes" not in exported["tables"]  # the coach's, not his
    assert "programmes" in (await privacy.export_person(w.deps, w.ann))["tables"]

    await privacy.erase_person(w.deps, w.bart)
    shown = text_of(await service.status(w.deps, person=w.ann))
    assert "Bart" not in shown and "Chris" in shown
    assert (await privacy.export_person(w.deps, w.bart))["tables"] == {}

    swept = Deps(db=w.db, clock=w.clock, settings=Settings(slack_signing_secret="s", unmeet_retention_days=30),
                 summariser=OfflineSummariser(), messengers={"slack": w.messenger})
    w.clock.current = SESSIONS[2] + timedelta(days=29)
    assert (await privacy.sweep(swept)).get("programmes", 0) == 0  # its last session is 29 days ago
    w.clock.current = SESSIONS[2] + timedelta(days=31)
    assert (await privacy.sweep(swept))["programmes"] == 1
    assert "no programme yet" in text_of(await service.status(w.deps, person=w.ann))


async def test_with_the_model_on_the_briefing_has_themes_from_what_was_shared_without_names(world):
    w = world
    async with FakeOpenAI() as server:
        settings = Settings(slack_signing_secret="s", openai_base_url=server.base_url, openai_api_key="",
                            unmeet_llm_model="fake-model", unmeet_llm_timeout_seconds=2.0)
        w.deps = replace(w.deps, settings=settings, summariser=build_summariser(settings, w.db, w.clock))
        w.worker = build_worker(w.deps)
        await set_up(w)
        w.clock.current = SESSIONS[0] + timedelta(days=1)
        await one_thing.save_one_thing(w.deps, person=w.bart, text="Bart asks before assuming", share=True)
        await one_thing.save_one_thing(w.deps, person=w.chris, text="Niet delen", share=False)
        await at(w, datetime(2026, 3, 27, 15, tzinfo=UTC))
        [call] = server.prompts("programme_briefing/v1")
    [briefing] = [s for s in w.messenger.dms("U1") if s.key == "programme-brief:1:2"]
    shown = text_of(briefing.message)
    assert "What the cohort shared with you" in shown and "Questions for the session" in shown
    assert "One Things shared with their teams" in shown and "<@" not in shown
    assert "[person] asks before assuming" in call.user and "Bart" not in call.text and "Niet delen" not in call.text
    rendered_everywhere(briefing.message)


async def test_the_home_shows_the_coach_their_newest_programme_and_a_participant_their_own(world):
    w = world
    for n in range(15):
        w.messenger.add_person(WS, f"UX{n}", f"Lead {n:02}", tz=TZ)
        w.messenger.channels["C1"].append(f"UX{n}")
    await set_up(w)
    coach = await home.home(w.deps, person=w.ann)
    shown = text_of(coach)
    assert "Leads spring" in shown and "Bart" in shown and "…and 2 more" in shown
    assert "programme.status" in [b.action for b in buttons(coach)]
    rendered_everywhere(coach)
    assert len(slack_render.message(coach)["blocks"]) <= 100
    bart = text_of(await home.home(w.deps, person=w.bart))
    assert "Leads spring" in bart and "Choose your One Thing" in bart and "Chris" not in bart
    stranger = w.messenger.add_person(WS, "U9", "Dirk", tz=TZ)
    assert "Leads spring" not in text_of(await home.home(w.deps, person=stranger))
