"""The Driver's Seat on Teams, end to end: the real `unmeet serve` and `unmeet jobs run-due --now …`,
activities over real HTTP and the loopback fake Bot Connector; every card the bot sent validated as
Adaptive Card 1.5; SQLite and PostgreSQL. As on Slack, the run starts today and its first day is
skipped, so it crosses a weekend."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from core.domain import drivers_seat as rules
from core.domain.rounds import zone
from tests.fakes.teams_activities import card_submit, personal_conversation_id, personal_message
from tests.teams_app.conftest import ANN, BOB, CEM, card_of, card_text, inputs, submit_data
from tests.teams_app.conftest import world  # noqa: F401 - the fixture: a team of five and the server

UTC = timezone.utc
TZ = "Europe/Brussels"
COLOURS = [("green", "red", "green"), ("green", "orange", "red"), ("orange", "orange", "green"),
           ("green", "red", "red"), ("red", "green", "green")]


async def say(world, person, text: str, mention=None) -> dict:
    bc = world.connector
    chat = personal_conversation_id(person)
    before = len(bc.activities(chat))
    activity = personal_message(bc.service_url, text, sender=person)
    if mention is not None:  # Teams sends the mention as `<at>Name</at>` with an entity naming the person
        activity["text"] = f"{text} <at>{mention.name}</at>"
        activity["entities"].append({"type": "mention", "text": f"<at>{mention.name}</at>",
                                     "mentioned": {"id": mention.id, "name": mention.name}})
    await world.send(activity)
    await bc.wait_for(lambda: len(bc.activities(chat)) > before)
    return bc.activities(chat)[-1]


async def submit(world, person, activity: dict, values: dict, title: str | None = None) -> dict:
    """Press the card's button (`title`, else its first submit) with `values` typed in; the card or
    message the bot answered with (a replaced card counts)."""
    bc = world.connector
    chat = personal_conversation_id(person)
    card = card_of(activity)
    data = {**inputs(card), **submit_data(card, title), **values}
    before = [dict(a) for a in bc.activities(chat)]
    await world.send(card_submit(bc.service_url, data, sender=person, reply_to_id=activity["id"]))
    return await bc.wait_for(lambda: next((a for a in bc.activities(chat) if a not in before), None))


def cards_with(world, person, words: str) -> list[dict]:
    return [a for a in world.connector.activities(personal_conversation_id(person)) if words in card_text(a)]


async def run_of(world, person):
    async with world.db.transaction() as conn:
        return (await conn.execute(sa.text(
            "SELECT r.id, r.first_day, r.end_reason FROM seat_runs r JOIN members m ON m.id = r.member_id "
            "WHERE m.external_id = :u ORDER BY r.id DESC"), {"u": person.id})).first()


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def test_a_five_day_run_across_a_weekend_and_a_focus_session(world):
    bc = world.connector
    started = await say(world, ANN, "drivers seat start")
    assert "5 working days" in card_text(started)
    first = as_date((await run_of(world, ANN)).first_day)
    await world.run_due(rules.morning(first, TZ) + timedelta(seconds=1))
    [morning] = await bc.wait_for(lambda: cards_with(world, ANN, "Which three tasks"))
    skipped = await submit(world, ANN, morning, {}, title="I'm out today")
    assert "is not counted" in card_text(skipped)
    days = rules.counted_days(first, 5, {first})
    weekend = [d for d in (first + timedelta(n) for n in range((days[-1] - first).days)) if d.weekday() >= 5]
    assert weekend

    for index, day in enumerate(days):
        await world.run_due(rules.morning(day, TZ) + timedelta(seconds=1))
        mornings = await bc.wait_for(lambda: cards_with(world, ANN, "Which three tasks")[index + 1:])
        form = await submit(world, ANN, mornings[-1], {}, title="Name my three tasks")
        assert inputs(card_of(form))["kind2"] == "reactive"  # the kind pre-assigned
        if index == 0:  # bad input first: the form comes back with everything typed
            bad = await submit(world, ANN, form, {"task1": " ", "task2": "x" * 3000, "kind3": "proactive"})
            assert "Please fill this in." in card_text(bad) and "it has 3000" in card_text(bad)
            assert inputs(card_of(bad))["task2"] == "x" * 3000 and inputs(card_of(bad))["kind3"] == "proactive"
            form = bad
        saved = await submit(world, ANN, form, {"task1": f"Write the plan {index}", "task2": "Answer the team",
                                                "task3": "Expenses", "kind3": "stuff"})
        assert "Saved." in card_text(saved)
        evening = rules.evening(day, TZ)
        if index == 1:  # focus time at the evening's moment: the card waits for the session's end
            async with world.db.transaction() as conn:
                await conn.execute(sa.text(
                    "INSERT INTO focus_sessions (workspace_id, member_id, category, topic, started_at, ends_at, "
                    "status_set) SELECT workspace_id, id, 'proactive', '', :start, :end, false FROM members "
                    "WHERE external_id = :u"), {"start": (evening - timedelta(minutes=10)).replace(tzinfo=None),
                                                 "end": (evening + timedelta(minutes=20)).replace(tzinfo=None),
                                                 "u": ANN.id})
            await world.run_due(evening + timedelta(seconds=1))
            assert len(cards_with(world, ANN, "How did today go?")) == index
            await world.run_due(evening + timedelta(minutes=20, seconds=1))
        else:
            await world.run_due(evening + timedelta(seconds=1))
        evenings = await bc.wait_for(lambda: cards_with(world, ANN, "How did today go?")[index:])
        assert f"Write the plan {index}" in card_text(evenings[-1])
        form = await submit(world, ANN, evenings[-1], {}, title="Rate my day")
        assert "Answer the team" in card_text(form)
        colours = COLOURS[index]
        day_card = await submit(world, ANN, form, {"rating1": colours[0], "rating2": colours[1],
                                                   "rating3": colours[2], "why2": "too many pings"})
        assert "Your day" in card_text(day_card)
    for day in weekend:
        await world.run_due(datetime.combine(day, time(12), tzinfo=zone(TZ)).astimezone(UTC))
    assert len(cards_with(world, ANN, "Which three tasks")) == 6
    assert len(cards_with(world, ANN, "How did today go?")) == 5

    await world.run_due(rules.week_card_due(first, 5, {first}, TZ) + timedelta(seconds=1))
    [week] = await bc.wait_for(lambda: cards_with(world, ANN, "Your Driver's Seat week"))
    assert "proactive 60% green · reactive 20% green · stuff 60% green" in card_text(week)
    assert "What made the green days green?" in card_text(week)
    home = await say(world, ANN, "home")
    assert "Start a week" in card_text(home)
    assert world.assert_every_card_valid() >= 20


async def test_the_coach_in_dutch_feedback_and_unshare(world):
    bc = world.connector
    dutch = await say(world, CEM, "stuur")  # the coach has talked to the bot: it knows their language
    assert "Start een week" in card_text(dutch)
    assert "1 working day" in card_text(await say(world, BOB, "stuur start 1"))
    assert "someone else" in card_text(await say(world, BOB, "drivers seat share", mention=BOB))
    shared = await say(world, BOB, "drivers seat share", mention=CEM)
    assert "shared with Cem Yilmaz" in card_text(shared)
    await bc.wait_for(lambda: cards_with(world, CEM, "deelt de Driver's Seat-ronde met jou"))
    first = as_date((await run_of(world, BOB)).first_day)
    await world.run_due(rules.morning(first, TZ) + timedelta(seconds=1))
    [morning] = await bc.wait_for(lambda: cards_with(world, BOB, "Which three tasks"))
    form = await submit(world, BOB, morning, {}, title="Name my three tasks")
    await submit(world, BOB, form, {"task1": "Plan the offsite", "task2": "Reply to Sam", "task3": "Book travel"})
    await world.run_due(rules.evening(first, TZ) + timedelta(seconds=1))
    [evening] = await bc.wait_for(lambda: cards_with(world, BOB, "How did today go?"))
    form = await submit(world, BOB, evening, {}, title="Rate my day")
    await submit(world, BOB, form, {"rating1": "green", "rating2": "green", "rating3": "red"})

    [card] = await bc.wait_for(lambda: cards_with(world, CEM, "De dag van Bob Jansen"))
    assert "Plan the offsite" in card_text(card)
    feedback_form = await submit(world, CEM, card, {}, title="Feedback geven")
    empty = await submit(world, CEM, feedback_form, {"feedback": " "})
    assert "Vul dit in" in card_text(empty)
    sent = await submit(world, CEM, empty, {"feedback": "Sterk dat de offsite groen werd."})
    assert "Verstuurd naar Bob Jansen" in card_text(sent)
    [feedback] = await bc.wait_for(lambda: cards_with(world, BOB, "Cem Yilmaz has feedback"))
    assert "Sterk dat de offsite groen werd." in card_text(feedback)

    assert "no longer shared" in card_text(await say(world, BOB, "drivers seat unshare"))
    stale = await submit(world, CEM, card, {}, title="Feedback geven")
    assert "niet meer met jou gedeeld" in card_text(stale)
    await world.run_due(rules.week_card_due(first, 1, set(), TZ) + timedelta(seconds=1))
    await bc.wait_for(lambda: cards_with(world, BOB, "Your Driver's Seat week"))
    assert cards_with(world, CEM, "Driver's Seat-week van Bob") == []
    assert world.assert_every_card_valid() >= 10
