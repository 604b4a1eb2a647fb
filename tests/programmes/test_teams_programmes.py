"""Programme mode on Teams, end to end: the real `unmeet serve` and `unmeet jobs run-due --now …`,
activities over real HTTP and the loopback fake Bot Connector; every card validated as Adaptive Card
1.5; SQLite and PostgreSQL. Ann coaches in the team's channel; Bob, Cem (Dutch), Dirk and Eva are the
cohort. As on Slack, the programme is under way (session 1 was last week) because the server keeps
real time."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from core.domain import programmes as rules
from core.domain.rounds import next_working_moment, reminder_time, zone
from tests.fakes.teams_activities import card_submit, channel_message, personal_conversation_id
from tests.programmes.test_slack_programmes import marks, session_days
from tests.teams_app.conftest import ANN, BOB, CEM, DIRK, card_of, card_text, inputs, submit_data
from tests.teams_app.conftest import world  # noqa: F401 - the fixture: a team of five and the server
from tests.drivers_seat.test_teams_drivers_seat import say

UTC = timezone.utc
TZ = "Europe/Brussels"


async def in_channel(world, text: str, sender=ANN, mention=None) -> tuple[str, dict]:
    """`@unmeet text` in the team's channel: the thread and the bot's first answer in it."""
    bc = world.connector
    activity = channel_message(bc.service_url, text, sender=sender)
    if mention is not None:
        activity["text"] += f" <at>{mention.name}</at>"
        activity["entities"].append({"type": "mention", "text": f"<at>{mention.name}</at>",
                                     "mentioned": {"id": mention.id, "name": mention.name}})
    await world.send(activity)
    thread = activity["conversation"]["id"]
    [answer] = await bc.wait_for(lambda: bc.activities(thread))
    return thread, answer


def assignment_cards(world, person) -> list[dict]:
    words = ("Your assignment for", "Je opdracht voor")
    return [a for a in world.connector.activities(personal_conversation_id(person))
            if any(w in card_text(a) for w in words)]


async def test_a_coach_runs_a_programme_in_a_teams_channel(world):
    bc = world.connector
    refused = await say(world, ANN, "programme new")  # a 1:1 chat has no cohort
    none_yet = await say(world, CEM, "traject")  # Teams tells Cem's language with his own messages only
    assert "nog geen traject" in card_text(none_yet)
    assert "in the channel whose members are the cohort" in card_text(refused)

    thread, form = await in_channel(world, "programme new")
    card = card_of(form)
    assert inputs(card)["name"] == "Value creation trajectory" and inputs(card)["assignment0"] == "Choose your One Thing"
    today = datetime.now(zone(TZ)).date()
    dates = session_days(today)
    bad = {**submit_data(card), **inputs(card), "name": "", "session3": dates[0].isoformat()}
    await world.send(card_submit(bc.service_url, bad, sender=ANN, reply_to_id=form["id"], conversation_id=thread))
    again = await bc.wait_for(lambda: "Please fill this in." in card_text(bc.activities(thread)[0])
                              and bc.activities(thread)[0])
    assert "Each session must come after the one before." in card_text(again)
    assert inputs(card_of(again))["session3"] == dates[0].isoformat()  # what was typed stays
    values = {**submit_data(card_of(again)), **inputs(card_of(again)), "name": "Leads winter",
              **{f"session{n}": d.isoformat() for n, d in enumerate(dates, 1)}}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=again["id"], conversation_id=thread))
    await bc.wait_for(lambda: "“Leads winter” is set up" in card_text(bc.activities(thread)[0]))

    for _ in range(50):  # the cohort is read from the team's roster by a job
        _, status = await in_channel(world, "programme status")
        if "being read" not in card_text(status):
            break
        await asyncio.sleep(0.1)
    shown = card_text(status)
    for name in ("Bob Jansen", "Cem Yilmaz", "Dirk Maes", "Eva Claes"):
        assert name in shown
    assert "Ann Peeters" not in shown

    # What session 1 opened, in each person's chat and language, once.
    working = next_working_moment(datetime.now(UTC) + timedelta(seconds=1), zone(TZ)) + timedelta(minutes=1)
    await world.run_due(working)
    bob = await bc.wait_for(lambda: len(assignment_cards(world, BOB)) == 3 and assignment_cards(world, BOB))
    cem = await bc.wait_for(lambda: len(assignment_cards(world, CEM)) == 3 and assignment_cards(world, CEM))
    assert any("Choose your One Thing" in card_text(a) for a in bob)
    assert any("Kies je One Thing" in card_text(a) for a in cem)
    await world.run_due(working + timedelta(hours=2))
    assert len(assignment_cards(world, BOB)) == 3 and assignment_cards(world, ANN) == []

    # Completion from the feature itself; a participant sees only their own; the coach takes Dirk out.
    recorded = await say(world, BOB, "one thing Ask before assuming")
    assert "Ask before assuming" in card_text(recorded)
    _, status = await in_channel(world, "traject")
    assert marks(card_text(status), "Bob Jansen") == "Jansen** 1✅ 2⏳ 3⏳ 4· 5·"
    mine = await say(world, BOB, "programme status")
    assert "Choose your One Thing" in card_text(mine) and "Cem" not in card_text(mine)
    _, removed = await in_channel(world, "programme remove", mention=DIRK)
    assert "Dirk Maes is no longer in “Leads winter”" in card_text(removed)
    _, export = await in_channel(world, "programme export")
    csv_text = card_text(export)
    assert "participant,assignment,status" in csv_text and "Bob Jansen,Choose your One Thing,done" in csv_text
    assert "Dirk Maes" not in csv_text

    # The one reminder before session 2, none for what is done, none for Dirk; the coach's briefing.
    second = rules.session_start(dates[1], TZ).astimezone(UTC)
    remind_at = reminder_time(second, TZ, second - timedelta(days=5))
    await world.run_due(remind_at + timedelta(minutes=1))
    reminders = lambda person: [a for a in bc.activities(personal_conversation_id(person))  # noqa: E731
                                if any(w in card_text(a) for w in ("Reminder from", "Herinnering van"))]
    await bc.wait_for(lambda: len(reminders(BOB)) == 2 and len(reminders(CEM)) == 3)
    assert reminders(DIRK) == [] and not any("One Thing" in card_text(a) for a in reminders(BOB))
    [briefing] = await bc.wait_for(lambda: [a for a in bc.activities(personal_conversation_id(ANN))
                                            if "Briefing for session 2" in card_text(a)])
    assert "Choose your One Thing: 1 of 3 done (0 late)" in card_text(briefing)
    assert world.assert_every_card_valid() >= 10
