"""The stuck log on Teams, end to end: the real `unmeet serve` and `unmeet jobs run-due --now …`,
activities over real HTTP and the loopback fake Bot Connector; every card validated as Adaptive Card
1.5; SQLite and PostgreSQL. What a person notes, and their status, go to their 1:1 chat, never the
channel; the report goes to the channel without names or text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from core.domain import stuck as rules
from tests.fakes.teams_activities import CHANNEL_ID, card_submit, channel_message, personal_conversation_id
from tests.teams_app.conftest import ANN, BOB, CEM, DIRK, EVA, card_of, card_text, inputs, submit_data
from tests.teams_app.conftest import world  # noqa: F401 - the fixture: a team of five and the server

UTC = timezone.utc
TZ = "Europe/Brussels"


async def in_channel(world, person, text: str) -> dict:
    """Mention the bot in the channel; its answer in the new thread."""
    bc = world.connector
    mention = channel_message(bc.service_url, text, sender=person)
    await world.send(mention)
    thread = mention["conversation"]["id"]
    [answer] = await bc.wait_for(lambda: bc.activities(thread))
    return answer


def chat(world, person) -> list[dict]:
    return world.connector.activities(personal_conversation_id(person))


async def submit(world, person, activity: dict, values: dict, title: str | None = None,
                 conversation: str | None = None) -> dict:
    bc = world.connector
    where = conversation or personal_conversation_id(person)
    card = card_of(activity)
    data = {**inputs(card), **submit_data(card, title), **values}
    before = [dict(a) for a in bc.activities(where)]
    await world.send(card_submit(bc.service_url, data, sender=person, reply_to_id=activity["id"],
                                 conversation_id=conversation))
    return await bc.wait_for(lambda: next((a for a in bc.activities(where) if a not in before), None))


async def entries(world) -> list:
    async with world.db.transaction() as conn:
        return (await conn.execute(sa.text(
            "SELECT m.external_id, e.what, e.kind FROM stuck_entries e JOIN members m ON m.id = e.member_id "
            "ORDER BY e.id"))).all()


async def test_a_stuck_log_on_teams(world):
    bc = world.connector
    days = rules.log_days(datetime.now(UTC), TZ, 2)
    started = await in_channel(world, ANN, "stuck start 2")
    assert "runs 2 working days" in card_text(started)
    await world.run_due(datetime.now(UTC) + timedelta(seconds=5))
    [announcement] = await bc.wait_for(lambda: bc.activities(CHANNEL_ID))
    assert "2 working days" in card_text(announcement) and "shortcut" not in card_text(announcement)

    # What Bob types goes to his 1:1 chat as the form; the channel only hears that it went there.
    answer = await in_channel(world, BOB, "stuck The budget for the Offsite")
    assert "only you see it" in card_text(answer) and "Offsite" not in card_text(answer)
    [form] = await bc.wait_for(lambda: chat(world, BOB))
    assert inputs(card_of(form))["what"] == "The budget for the Offsite"
    too_long = await submit(world, BOB, form, {"what": "w" * 2000})  # a card input holds 3,000
    assert "it has 2000" in card_text(too_long) and inputs(card_of(too_long))["what"] == "w" * 2000
    saved = await submit(world, BOB, too_long, {"what": "The budget for the Offsite", "kind": "budget",
                                                "knew": "no", "waited": "day"})
    assert "Noted." in card_text(saved)

    await in_channel(world, CEM, "vast Wie beslist over de release")
    [form] = await bc.wait_for(lambda: chat(world, CEM))
    assert "Waarop wachtte je?" in card_text(form)
    saved = await submit(world, CEM, form, {"kind": "scope", "knew": "unclear", "waited": "hours"})
    assert "Genoteerd." in card_text(saved)
    assert [tuple(r)[1:] for r in await entries(world)] == [("The budget for the Offsite", "budget"),
                                                             ("Wie beslist over de release", "scope")]

    await in_channel(world, BOB, "stuck")
    status = await bc.wait_for(lambda: [a for a in chat(world, BOB) if "Day " in card_text(a)])
    assert "The budget for the Offsite" in card_text(status[-1]) and "release" not in card_text(status[-1])

    # The last day's question, once each; "No"; "Yes, note it" opens the form in the chat.
    last = rules.at(days[-1], rules.NUDGE_TIME, TZ)
    await world.run_due(last + timedelta(minutes=1))
    await world.run_due(last + timedelta(minutes=2))

    def asked(person) -> list[dict]:
        return [a for a in chat(world, person) if "Were you stuck today" in card_text(a)
                or "Zat je vandaag vast" in card_text(a)]

    await bc.wait_for(lambda: all(asked(p) for p in (ANN, BOB, CEM, DIRK, EVA)))
    assert [len(asked(p)) for p in (ANN, BOB, CEM, DIRK, EVA)] == [1, 1, 1, 1, 1]
    no = await submit(world, ANN, asked(ANN)[0], {}, title="No")
    assert "Good to hear" in card_text(no)
    form = await submit(world, DIRK, asked(DIRK)[0], {}, title="Yes, note it")
    saved = await submit(world, DIRK, form, {"what": "Which survey tool", "kind": "technical", "knew": "yes",
                                             "waited": "under_hour"})
    assert "Noted." in card_text(saved)

    await world.run_due(rules.report_due(days, TZ) + timedelta(minutes=1))
    [report] = await bc.wait_for(lambda: [a for a in bc.activities(CHANNEL_ID) if "Who decides what" in card_text(a)])
    shown = card_text(report)
    assert "the team noted 3 stuck moments" in shown and "unknown or unclear 2 of 3 times" in shown
    for secret in ("Offsite", "release", "survey", "Ann", "Bob", "Cem", "Dirk"):
        assert secret not in shown
    adopted = await submit(world, ANN, report, {}, title="Adopt as rules in our agreement", conversation=CHANNEL_ID)
    assert "Added 3 rules" in card_text(adopted)
    assert world.assert_every_card_valid() >= 12


async def test_stuck_in_the_chat_points_to_the_channel(world):
    bc = world.connector
    from tests.fakes.teams_activities import personal_message

    await world.send(personal_message(bc.service_url, "stuck waiting for Bob", sender=EVA))
    [answer] = await bc.wait_for(lambda: chat(world, EVA))
    assert "belongs to a team channel" in card_text(answer)
