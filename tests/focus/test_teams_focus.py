"""Focus time and the meeting check on Teams, end to end: the real `unmeet serve` and the loopback
fake Bot Connector. Teams gets the session recorded and announced, no presence change."""

from __future__ import annotations

from tests.fakes.teams_activities import CHANNEL_ID, card_submit, personal_conversation_id, personal_message
from tests.teams_app.conftest import ANN, BOB, CEM, card_of, card_text, inputs, submit_data
from tests.teams_app.conftest import world  # noqa: F401 - the fixture: a team of five and the server


async def say(world, person, text: str) -> dict:
    bc = world.connector
    chat = personal_conversation_id(person)
    before = len(bc.activities(chat))
    await world.send(personal_message(bc.service_url, text, sender=person))
    await bc.wait_for(lambda: len(bc.activities(chat)) > before)
    return bc.activities(chat)[-1]


async def test_focus_commands_as_bot_messages(world):
    started = await say(world, ANN, "focus 1h30 writing the Q3 plan #reactive")
    shown = card_text(started)
    assert "writing the Q3 plan" in shown and "doesn't let apps set your status" in shown
    week = await say(world, ANN, "focus")
    assert "Your focus this week" in card_text(week) and "of 240 minutes" in card_text(week)
    assert "lengths in words" in card_text(await say(world, ANN, "focus anderhalf uur"))
    assert "can't be negative" in card_text(await say(world, ANN, "focus -20"))
    assert "hoogstens 8 uur" in card_text(await say(world, CEM, "focus 25h"))
    stopped = await say(world, ANN, "focus stop")
    assert "Focus session ended" in card_text(stopped)
    form = await say(world, ANN, "focus plan")
    assert "Plan focus time" in card_text(form) or "Block 1: day" in card_text(form)
    assert world.assert_every_card_valid() > 0


async def test_meeting_check_card_to_verdict_to_share_form(world):
    bc = world.connector
    form = await say(world, BOB, "meeting check")
    values = {**inputs(card_of(form)), **submit_data(card_of(form))}
    values.update(purpose="inform", agenda="Release notes for 2.0", people="12", minutes="30",
                  frequency="once", decider_known="yes", readable="yes")
    chat = personal_conversation_id(BOB)
    await world.send(card_submit(bc.service_url, values, sender=BOB, reply_to_id=form["id"]))
    verdict = await bc.wait_for(lambda: next((a for a in bc.activities(chat)
                                              if "Verdict" in card_text(a)), None))
    assert "Verdict: go async" in card_text(verdict) and "6 person-hours" in card_text(verdict)
    await world.send(card_submit(bc.service_url, submit_data(card_of(verdict), "Start an async round instead"),
                                 sender=BOB, reply_to_id=verdict["id"]))
    share = await bc.wait_for(lambda: next((a for a in bc.activities(chat)
                                            if "Share an insight" in card_text(a)), None))
    assert inputs(card_of(share))["title"] == "Release notes for 2.0"
    assert world.assert_every_card_valid() > 0
