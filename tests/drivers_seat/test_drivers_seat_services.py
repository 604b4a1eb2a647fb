"""The Driver's Seat's services against a real database (SQLite and PostgreSQL), the in-memory
messenger, a fixed clock and the real worker: a five-day run across a weekend and a focus session, a
skipped day, the forms' bad input, the week card's figures, the coach's copies, feedback and revoke,
the digest lines, personal data; and every message rendered to Block Kit and Adaptive Card 1.5."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from core.bootstrap import build_worker
from core.config import Settings
from core.domain.digest import week_of
from core.domain.focus import Start
from core.domain.refs import WorkspaceRef
from core.llm.offline import OfflineSummariser
from core.messages import drivers_seat as views
from core.messages.digest import digest_message
from core.messages.i18n import translator
from core.messages.model import Message
from core.persistence import repository as repo
from core.persistence.drivers_seat import DayRow, RunRow, Task
from core.persistence.tables_drivers_seat import seat_days, seat_runs
from core.ports import FixedClock
from core.services import drivers_seat as seat
from core.services import focus, home, privacy
from core.services.deps import Deps
from core.services.digest import build_digest
from core.persistence import digest as digest_store
from slack_app import render as slack_render
from teams_app import render as teams_render
from tests.digest.seed import World as DigestWorld
from tests.fakes.cards import assert_valid_card
from tests.fakes.messenger import FakeMessenger, buttons, text_of
from tests.fakes.slack_api import block_kit_problems

WS = WorkspaceRef("slack", "T1")
UTC = timezone.utc
THURSDAY = datetime(2026, 3, 5, 7, tzinfo=UTC)  # 08:00 in Brussels
DAYS = [date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11)]
COLOURS = [("green", "red", "green"), ("green", "orange", "red"), ("orange", "orange", "green"),
           ("green", "red", "red"), ("red", "green", "green")]


@pytest.fixture
async def world(db):
    messenger = FakeMessenger()
    ann = messenger.add_person(WS, "U1", "Ann", tz="Europe/Brussels", locale="en-GB")
    cor = messenger.add_person(WS, "U2", "Cor", tz="Europe/Amsterdam", locale="nl-NL")
    bot = messenger.add_person(WS, "B1", "Helper", is_bot=True)
    clock = FixedClock(THURSDAY)
    deps = Deps(db=db, clock=clock, settings=Settings(slack_signing_secret="s", unmeet_retention_days=90),
                summariser=OfflineSummariser(), messengers={"slack": messenger})

    class W:
        pass

    w = W()
    w.deps, w.messenger, w.clock, w.worker, w.db = deps, messenger, clock, build_worker(deps), db
    w.ann, w.cor, w.bot = ann, cor, bot
    return w


def seat_dms(messenger: FakeMessenger, user: str, prefix: str = "seat-") -> list[str]:
    return [s.key for s in messenger.dms(user) if (s.key or "").startswith(prefix)]


async def at(w, moment: datetime) -> None:
    w.clock.current = moment
    await w.worker.run_due()


async def run_id(w) -> int:
    async with w.db.transaction() as conn:
        return (await conn.execute(sa.select(seat_runs.c.id).order_by(seat_runs.c.id.desc()))).scalars().first()


async def plan_and_rate(w, run: int, day: date, colours, person=None) -> None:
    value = f"{run}:{day.isoformat()}"
    person = person or w.ann
    saved = await seat.save_tasks(w.deps, person=person, value=value, kinds=("proactive", "reactive", "stuff"),
                                  texts=(f"plan {day}", f"answer {day}", f"expenses {day}"))
    assert isinstance(saved, seat.Done)
    rated = await seat.save_ratings(w.deps, person=person, value=value, ratings=colours, whys=("", "meetings", ""))
    assert isinstance(rated, seat.Done), rated


async def test_a_five_day_run_across_a_weekend_and_a_focus_session(world):
    w = world
    started = await seat.command(w.deps, person=w.ann, text="start")
    assert "5 working days" in text_of(started) and "Thursday 5 March" in text_of(started)
    run = await run_id(w)
    assert "already have a run" in text_of(await seat.command(w.deps, person=w.ann, text="start 3"))
    for index, day in enumerate(DAYS):
        morning = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)  # 09:00 CET
        evening = datetime(day.year, day.month, day.day, 16, tzinfo=UTC)  # 17:00 CET
        await at(w, morning)
        assert seat_dms(w.messenger, "U1")[-1] == f"seat-morning:{run}:{day.isoformat()}"
        await seat.save_tasks(w.deps, person=w.ann, value=f"{run}:{day.isoformat()}",
                              kinds=("proactive", "reactive", "stuff"), texts=("plan", "answer", "expenses"))
        if day == date(2026, 3, 9):  # Monday: in focus time when the evening comes
            w.clock.current = evening - timedelta(minutes=15)
            await focus.start_focus(w.deps, person=w.ann, start=Start(60))
            await at(w, evening)
            assert seat_dms(w.messenger, "U1")[-1].startswith("seat-morning:")  # held back
            await at(w, evening + timedelta(minutes=45))  # the session's end
        else:
            await at(w, evening)
        last = w.messenger.dms("U1")[-1]
        assert last.key == f"seat-evening:{run}:{day.isoformat()}"
        assert "plan" in text_of(last.message) and "expenses" in text_of(last.message)
        await seat.save_ratings(w.deps, person=w.ann, value=f"{run}:{day.isoformat()}", ratings=COLOURS[index],
                                whys=("", "too many pings", ""))
        await at(w, evening + timedelta(hours=3))
    # the weekend: nothing; one morning and one evening DM per working day, nothing twice
    keys = seat_dms(w.messenger, "U1")
    assert len(keys) == len(set(keys)) == 10
    assert not any("2026-03-07" in k or "2026-03-08" in k for k in keys)
    await at(w, datetime(2026, 3, 12, 7, 59, tzinfo=UTC))
    assert not any(k.startswith("seat-week:") for k in seat_dms(w.messenger, "U1"))
    await at(w, datetime(2026, 3, 12, 8, tzinfo=UTC))  # the morning after the last day
    card = w.messenger.dms("U1")[-1]
    assert card.key == f"seat-week:{run}"
    shown = text_of(card.message)
    # proactive 3/5 green, reactive 1/5, stuff 3/5
    assert "proactive 60% green · reactive 20% green · stuff 60% green" in shown
    assert "What made the green days green?" in shown and shown.count("too many pings") == 5
    async with w.db.transaction() as conn:
        assert (await conn.execute(sa.select(seat_runs.c.end_reason))).scalar_one() == "finished"
    await at(w, datetime(2026, 3, 13, 8, tzinfo=UTC))
    assert len(seat_dms(w.messenger, "U1")) == 11


async def test_a_skipped_day_is_not_counted_and_a_missed_day_gets_no_second_nudge(world):
    w = world
    await seat.command(w.deps, person=w.ann, text="start 2")
    run = await run_id(w)
    await at(w, datetime(2026, 3, 5, 8, tzinfo=UTC))
    [morning] = w.messenger.dms("U1")
    assert [b.action for b in buttons(morning.message)] == [views.PLAN_ACTION, views.SKIP_ACTION]
    skipped = await seat.skip(w.deps, person=w.ann, value=f"{run}:2026-03-05")
    assert "not counted" in text_of(skipped)
    await at(w, datetime(2026, 3, 5, 16, tzinfo=UTC))  # no evening DM for the skipped day
    assert len(seat_dms(w.messenger, "U1")) == 1
    # Friday missed (no tasks): no evening DM and no second morning DM
    await at(w, datetime(2026, 3, 6, 8, tzinfo=UTC))
    await at(w, datetime(2026, 3, 6, 16, tzinfo=UTC))
    await at(w, datetime(2026, 3, 6, 18, tzinfo=UTC))
    assert seat_dms(w.messenger, "U1")[1:] == [f"seat-morning:{run}:2026-03-06"]
    # the run grew by the skipped day: Monday is its second counted day, the week card comes Tuesday
    await at(w, datetime(2026, 3, 9, 8, tzinfo=UTC))
    assert seat_dms(w.messenger, "U1")[-1] == f"seat-morning:{run}:2026-03-09"
    await at(w, datetime(2026, 3, 10, 8, tzinfo=UTC))
    assert seat_dms(w.messenger, "U1")[-1] == f"seat-week:{run}"
    assert "not counted" in text_of(w.messenger.dms("U1")[-1].message)


async def test_tasks_named_after_the_evening_still_get_the_evening_question_once(world):
    w = world
    await seat.command(w.deps, person=w.ann, text="start 2")
    run = await run_id(w)
    await at(w, datetime(2026, 3, 5, 8, tzinfo=UTC))
    await at(w, datetime(2026, 3, 5, 16, tzinfo=UTC))  # 17:00: no tasks yet, so no question
    assert seat_dms(w.messenger, "U1") == [f"seat-morning:{run}:2026-03-05"]
    w.clock.current = datetime(2026, 3, 5, 18, tzinfo=UTC)  # she names them at 19:00
    value = f"{run}:2026-03-05"
    for _ in range(2):  # and changes them once
        assert isinstance(await seat.save_tasks(w.deps, person=w.ann, value=value, kinds=("proactive", "reactive",
                                                "stuff"), texts=("plan", "answer", "expenses")), seat.Done)
        await w.worker.run_due()
    assert seat_dms(w.messenger, "U1")[1:] == [f"seat-evening:{run}:2026-03-05"]
    assert "expenses" in text_of(w.messenger.dms("U1")[-1].message)


async def test_stop_ends_the_run_and_its_nudges(world):
    w = world
    await seat.command(w.deps, person=w.ann, text="start")
    assert "has ended" in text_of(await seat.command(w.deps, person=w.ann, text="stop"))
    await at(w, datetime(2026, 3, 12, 9, tzinfo=UTC))
    assert seat_dms(w.messenger, "U1") == []
    assert "no Driver's Seat run" in text_of(await seat.command(w.deps, person=w.ann, text="stop"))


async def test_bad_input_comes_back_with_everything_typed_and_no_duplicate_rows(world):
    w = world
    await seat.command(w.deps, person=w.ann, text="start")
    run = await run_id(w)
    value = f"{run}:2026-03-05"
    long = "x" * 3000
    bad = await seat.save_tasks(w.deps, person=w.ann, value=value, kinds=("proactive", "stuff", "stuff"),
                                texts=("  ", long, "ok"))
    assert isinstance(bad, seat.Invalid)
    assert bad.form.errors["task1"] == "Please fill this in."
    assert "under 200 characters (it has 3000)" in bad.form.errors["task2"]
    assert [i.initial for i in bad.form.inputs] == ["  ", "proactive", long, "stuff", "ok", "stuff"]
    for _ in range(2):  # a second submit of the same form
        assert isinstance(await seat.save_tasks(w.deps, person=w.ann, value=value, kinds=("stuff", "reactive", "stuff"),
                                                texts=("a", "b", "c")), seat.Done)
    async with w.db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(seat_days))).scalar_one() == 1
    rate = await seat.rate_form(w.deps, person=w.ann, value=value)
    assert [i.label for i in rate.inputs][::2] == ["stuff: a", "reactive: b", "stuff: c"]
    missing = await seat.save_ratings(w.deps, person=w.ann, value=value, ratings=("green", None, "blue"),
                                      whys=("w" * 3000, "", ""))
    assert set(missing.form.errors) == {"rating2", "rating3", "why1"}
    assert [i.initial for i in missing.form.inputs] == ["green", "w" * 3000, None, "", "blue", ""]
    # a rating for a day that is gone (the run stopped)
    await seat.command(w.deps, person=w.ann, text="stop")
    gone = await seat.save_ratings(w.deps, person=w.ann, value=value, ratings=("green", "green", "red"),
                                   whys=("kept", "", ""))
    assert isinstance(gone, seat.Invalid) and "no longer part" in gone.form.errors["rating1"]
    assert [i.initial for i in gone.form.inputs][:2] == ["green", "kept"]
    assert "no longer part" in text_of(await seat.plan_form(w.deps, person=w.ann, value="nonsense"))
    assert "1 to 10 working days" in text_of(await seat.command(w.deps, person=w.ann, text="start 11"))


async def test_the_coach_gets_the_cards_gives_feedback_and_unshare_stops_them(world):
    w = world
    await seat.command(w.deps, person=w.ann, text="start 2")
    run = await run_id(w)
    assert "bot" in text_of(await seat.share(w.deps, person=w.ann, coach=w.bot))
    assert "someone else" in text_of(await seat.share(w.deps, person=w.ann, coach=w.ann))
    assert "Cor" in text_of(await seat.share(w.deps, person=w.ann, coach=w.cor))
    await w.worker.run_due()
    assert "deelt" in text_of(w.messenger.dms("U2")[-1].message)  # Cor reads Dutch
    await plan_and_rate(w, run, DAYS[0], ("green", "red", "green"))
    again = await seat.save_ratings(w.deps, person=w.ann, value=f"{run}:2026-03-05", ratings=("green",) * 3,
                                    whys=("", "", ""))  # rated again: changed, but no second card
    assert isinstance(again, seat.Done)
    replan = await seat.save_tasks(w.deps, person=w.ann, value=f"{run}:2026-03-05", kinds=("stuff",) * 3,
                                   texts=("a", "b", "c"))
    assert isinstance(replan, seat.Invalid) and "rated already" in replan.form.errors["task1"]
    await w.worker.run_due()
    cards = [s for s in w.messenger.dms("U2") if s.key.startswith("seat-coach-day:")]
    assert [s.key for s in cards] == [f"seat-coach-day:{run}:2026-03-05"]
    assert "Ann" in text_of(cards[0].message)
    [give] = buttons(cards[0].message)
    assert give.action == views.FEEDBACK_ACTION and give.value == str(run)
    assert "Draft" not in text_of(await seat.feedback_form(w.deps, person=w.cor, value=give.value))  # LLM off
    assert "no longer shared" in text_of(await seat.feedback_form(w.deps, person=w.ann, value=give.value))
    empty = await seat.send_feedback(w.deps, person=w.cor, value=give.value, text="   ")
    assert isinstance(empty, seat.Invalid) and empty.form.errors["feedback"]
    sent = await seat.send_feedback(w.deps, person=w.cor, value=give.value, text="Mooi begin, Ann!")
    assert isinstance(sent, seat.Done) and "Ann" in text_of(sent.message)
    await w.worker.run_due()
    feedback = w.messenger.dms("U1")[-1]
    assert feedback.key.startswith("seat-feedback:") and "Mooi begin, Ann!" in text_of(feedback.message)
    assert "Cor" in text_of(feedback.message)
    # unshare: the stale button and further cards stop
    assert "no longer shared" in text_of(await seat.command(w.deps, person=w.ann, text="unshare"))
    stale = await seat.send_feedback(w.deps, person=w.cor, value=give.value, text="Nog iets")
    assert isinstance(stale, seat.Invalid) and "niet meer" in stale.form.errors["feedback"]
    assert stale.form.inputs[0].initial == "Nog iets"
    await plan_and_rate(w, run, DAYS[1], ("red", "red", "green"))
    await at(w, datetime(2026, 3, 9, 8, tzinfo=UTC))
    assert seat_dms(w.messenger, "U1")[-1] == f"seat-week:{run}"
    coach_keys = seat_dms(w.messenger, "U2")
    assert not any(k.startswith("seat-coach-week:") or k.endswith("2026-03-06") for k in coach_keys)


async def test_a_shared_run_sends_the_coach_the_week_card(world):
    w = world
    await seat.command(w.deps, person=w.ann, text="start 1")
    run = await run_id(w)
    await seat.share(w.deps, person=w.ann, coach=w.cor)
    await plan_and_rate(w, run, DAYS[0], ("green", "orange", "red"))
    await at(w, datetime(2026, 3, 6, 8, tzinfo=UTC))
    week = [s for s in w.messenger.dms("U2") if s.key == f"seat-coach-week:{run}"]
    assert len(week) == 1
    shown = text_of(week[0].message)
    assert "Ann" in shown and "proactief 100% groen" in shown and "Feedback geven" in shown


async def test_dutch_and_status(world):
    w = world
    await seat.command(w.deps, person=w.cor, text="begin 3")
    run = await run_id(w)
    await plan_and_rate(w, run, DAYS[0], ("green", "orange", "red"), person=w.cor)
    shown = text_of(await seat.command(w.deps, person=w.cor, text=""))
    assert "Driver's Seat" in shown and "1 van 3 dagen beoordeeld" in shown and "reactief 0% groen" in shown
    async with w.db.transaction() as conn:
        cor = await repo.find_member(conn, w.cor)
    view = await home.home(w.deps, person=w.cor)
    assert "1 van 3 dagen beoordeeld" in text_of(view) and cor is not None
    assert "Start a week" in text_of(await home.home(w.deps, person=w.ann))


async def test_the_teams_digest_counts_people_and_green_share_without_names(world):
    w = world
    async with w.db.transaction() as conn:
        seed = await DigestWorld(conn, now=THURSDAY - timedelta(days=1)).setup()
        team = [await seed.member(uid, name) for uid, name in (("U1", "Ann"), ("U2", "Cor"))]
        await seed.round("Round", created=THURSDAY - timedelta(days=1), deadline=THURSDAY + timedelta(days=3),
                         asked=team)
    for person, colours in ((w.ann, ("green", "red", "green")), (w.cor, ("green", "green", "red"))):
        await seat.command(w.deps, person=person, text="start")
        await plan_and_rate(w, await run_id(w), DAYS[0], colours, person=person)
    w.clock.advance(hours=2)
    async with w.db.transaction() as conn:
        context = await digest_store.channel_context(conn, seed.channel_id)
        digest = await build_digest(conn, context, week_of(w.clock.now(), context.tz), w.clock.now())
    assert digest.seat_people == 2 and len(digest.seat_rated) == 6
    for language, line in (("en", "2 people ran the Driver's Seat this week."),
                           ("nl", "2 mensen deden deze week de Driver's Seat.")):
        shown = text_of(digest_message(translator(language), digest, chart=False))
        assert line in shown
        assert ("proactive 100% green · reactive 50% green · stuff 50% green" in shown) == (language == "en")
        assert "Ann" not in shown and "Cor" not in shown and "plan 2026" not in shown


async def test_export_erase_and_sweep_cover_the_run(world):
    w = world
    await seat.command(w.deps, person=w.ann, text="start 1")
    run = await run_id(w)
    await seat.share(w.deps, person=w.ann, coach=w.cor)
    await plan_and_rate(w, run, DAYS[0], ("green", "orange", "red"))
    await seat.send_feedback(w.deps, person=w.cor, value=str(run), text="cor-secret-feedback")
    exported = await privacy.export_person(w.deps, w.ann)
    tables = exported["tables"]
    assert len(tables["seat_runs"]) == 1 and tables["seat_days"][0]["tasks"][0]["text"] == "plan 2026-03-05"
    assert any(r["key"].startswith("seat-morning:") for r in tables["jobs"])
    coach = (await privacy.export_person(w.deps, w.cor))["tables"]
    assert "seat_runs" not in coach and "plan 2026-03-05" not in str(coach)
    assert [r["text"] for r in coach["seat_feedback"]] == ["cor-secret-feedback"]
    erased = await privacy.erase_person(w.deps, w.ann)
    assert erased.rows["seat_runs"] == 1
    async with w.db.transaction() as conn:
        for table in (seat_runs, seat_days):
            assert (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one() == 0
    # the sweep: a run that ended more than the retention period ago goes
    await seat.command(w.deps, person=w.cor, text="start 1")
    await seat.command(w.deps, person=w.cor, text="stop")
    w.clock.advance(days=91)
    assert (await privacy.sweep(w.deps))["seat_runs"] == 1
    assert (await privacy.sweep(w.deps))["seat_runs"] == 0


async def test_every_message_renders_on_both_platforms_in_both_languages(world):
    run = RunRow(7, 1, 1, 5, DAYS[0], THURSDAY, None, None)
    long = "x" * 200
    rows = [DayRow(1, 7, DAYS[0], False, (Task("proactive", long, "green", "w" * 200), Task("reactive", long, "red"),
                                          Task("stuff", long)), THURSDAY, THURSDAY),
            DayRow(2, 7, DAYS[1], True, (), None, None)]
    for language in ("en", "nl"):
        t = translator(language)
        messages = [views.nothing_yet(t), views.overview(t, run, rows, "Cor", tuple(DAYS)),
                    views.started(t, run, tuple(DAYS)), views.already_running(t), views.stopped(t),
                    views.no_run(t), views.shared(t, "Cor"), views.unshared(t, True), views.unshared(t, False),
                    views.morning_dm(t, run, DAYS[0]), views.tasks_saved(t), views.skipped(t, DAYS[1]),
                    views.evening_dm(t, run, rows[0]), views.day_card(t, rows[0]),
                    views.day_card(t, rows[0], about="Ann", run_id=7), views.week_card(t, run, rows),
                    views.week_card(t, run, rows, about="Ann"), views.feedback_dm(t, "Cor", "f" * 2000),
                    views.feedback_sent(t, "Ann"), views.shared_with_you(t, "Ann"),
                    Message(views.home_blocks(t, run, rows, tuple(DAYS)), fallback="home"),
                    Message(views.home_blocks(t, None, [], ()), fallback="home"),
                    Message(tuple(views.digest_blocks(t, 3, [("proactive", "green"), ("stuff", "red")])), fallback="d")]
        for message in messages:
            payload = slack_render.message(message)
            assert block_kit_problems(payload, "message") == [], message
            assert_valid_card(teams_render.message_card(message))
        forms = [views.tasks_form(t, metadata="7:2026-03-05", day=DAYS[0], kinds=("proactive", "bogus", "stuff"),
                                  texts=("z" * 3000, "", "a"), errors={"task1": "bad"}),
                 views.ratings_form(t, metadata="7:2026-03-05", row=rows[0], ratings=("green", None, "red"),
                                    whys=("w" * 3000, "", ""), errors={"rating2": "bad"}),
                 views.ratings_form(t, metadata="7:2026-03-05", row=None, ratings=(None, None, None),
                                    whys=("", "", "")),
                 views.feedback_form(t, run_id=7, name="Ann", value="v" * 3000, errors={"feedback": "bad"},
                                     can_draft=True)]
        for form in forms:
            assert block_kit_problems(slack_render.modal(form), "view") == [], form
            assert_valid_card(teams_render.form_card(form))
