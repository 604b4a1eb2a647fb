"""The One Thing on Teams, end to end: the real `unmeet serve` and `unmeet jobs run-due --now …`, activities
over real HTTP and the loopback fake Bot Connector; every card the bot sent validated as Adaptive Card
1.5; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core.domain import one_thing as rules
from tests.fakes.teams_activities import card_submit, personal_conversation_id, personal_message
from tests.teams_app.conftest import ANN, BOB, CEM, card_of, card_text, inputs, submit_data
from tests.teams_app.conftest import world  # noqa: F401 - the fixture: a team of five and the server

UTC = timezone.utc


async def say(world, person, text: str) -> dict:
    bc = world.connector
    chat = personal_conversation_id(person)
    before = len(bc.activities(chat))
    await world.send(personal_message(bc.service_url, text, sender=person))
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


async def stored(world, person) -> list:
    async with world.db.transaction() as conn:
        return (await conn.execute(sa.text(
            "SELECT o.id, o.text, o.shared, o.recorded_at, o.replaced_at, o.check_answer, o.check_note "
            "FROM one_things o JOIN members m ON m.id = o.member_id WHERE m.external_id = :u ORDER BY o.id"),
            {"u": person.id})).all()


def aware(value) -> datetime:
    value = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


async def test_record_replace_home_bad_input_and_dutch(world):
    reply = await say(world, ANN, "one thing Ask before assuming")
    assert "Ask before assuming" in card_text(reply) and "Only you see it" in card_text(reply)
    reply = await say(world, ANN, "One-Thing Protect two mornings #share")
    assert "replaces your earlier One Thing" in card_text(reply) and "weekly digest" in card_text(reply)
    assert [(r.text, r.shared, r.replaced_at is None) for r in await stored(world, ANN)] == [
        ("Ask before assuming", False, False), ("Protect two mornings", True, True)]
    home = await say(world, ANN, "home")
    assert "Your One Thing" in card_text(home) and "Protect two mornings" in card_text(home)
    assert "Ask before assuming" in card_text(home)

    # The home card's button: the form; saving it records, sending the same card again does nothing more.
    form = await submit(world, ANN, home, {}, title="Record a new one")
    assert "The one idea I keep" in card_text(form)
    saved = await submit(world, ANN, form, {"text": "Write decisions down", "share": "private"})
    assert "Write decisions down" in card_text(saved)
    twice = await submit(world, ANN, form, {"text": "Write decisions down", "share": "private"})
    assert "already sent this card" in card_text(twice)
    assert len(await stored(world, ANN)) == 3

    long_text = "Listen " + "x" * 600
    form = await say(world, BOB, f"one thing {long_text}")
    assert inputs(card_of(form))["text"] == long_text and "it has 607" in card_text(form)
    empty = await submit(world, BOB, form, {"text": "  "})
    assert "Please fill this in." in card_text(empty)
    assert await stored(world, BOB) == []

    dutch = await say(world, CEM, "één ding Eerst vragen, dan aannemen #deel")
    assert "Je Eén Ding" in card_text(dutch) and "weekoverzicht" in card_text(dutch)
    assert [r.text for r in await stored(world, CEM)] == ["Eerst vragen, dan aannemen"]
    shown = await say(world, CEM, "een ding")
    assert "Eerst vragen, dan aannemen" in card_text(shown) and "Een nieuw bewaren" in card_text(shown)
    assert world.assert_every_card_valid() >= 8


async def test_the_check_a_week_later_and_its_answer(world):
    bc = world.connector
    await say(world, ANN, "one thing Decide in writing")
    [row] = await stored(world, ANN)
    due = rules.check_due(aware(row.recorded_at), "Europe/Brussels")
    chat = personal_conversation_id(ANN)

    def checks() -> list[dict]:
        return [a for a in bc.activities(chat) if "A week ago you chose your One Thing" in card_text(a)]

    await world.run_due(due - timedelta(seconds=5))
    assert checks() == []
    await world.run_due(due + timedelta(seconds=1))
    [dm] = checks()
    assert "Decide in writing" in card_text(dm)
    form = await submit(world, ANN, dm, {}, title="Dropped")
    assert inputs(card_of(form))["answer"] == "dropped"
    too_long = await submit(world, ANN, form, {"note": "n" * 501})
    assert "under 500 characters" in card_text(too_long) and inputs(card_of(too_long))["note"] == "n" * 501
    done = await submit(world, ANN, too_long, {"note": "Too many meetings this week"})
    assert "Thanks, noted: Dropped" in card_text(done) and "Record a new one" in card_text(done)
    [row] = await stored(world, ANN)
    assert (row.check_answer, row.check_note) == ("dropped", "Too many meetings this week")

    await say(world, ANN, "one thing Fewer status meetings")
    stale = await submit(world, ANN, dm, {}, title="Yes")
    assert "newer One Thing" in card_text(stale)
    assert (await stored(world, ANN))[0].check_answer == "dropped"
    assert world.assert_every_card_valid() >= 3
