"""Team agreements on Teams, end to end: the real `unmeet serve` and botbuilder over HTTP, the Bot
Connector fake; every card checked against the Adaptive Card 1.5 schema."""

from __future__ import annotations

from datetime import date, timedelta

from tests.fakes.teams_activities import CHANNEL_ID, card_submit, channel_message, personal_conversation_id
from tests.teams_app.conftest import ANN, BOB, card_of, card_text, inputs, submit_data, world  # noqa: F401


async def open_form(world, sender=ANN, text: str = "agreements edit") -> tuple[str, dict]:
    bc = world.connector
    mention = channel_message(bc.service_url, text, sender=sender)
    await world.send(mention)
    thread = mention["conversation"]["id"]
    [form] = await bc.wait_for(lambda: bc.activities(thread))
    return thread, form


def owner_value(card: dict, name: str) -> str:
    choices = next(e for e in card["body"] if e.get("id") == "a1_owner")["choices"]
    return next(c["value"] for c in choices if c["title"] == name)


async def test_edit_publish_and_republish_in_place_with_bad_input_first(world):
    bc = world.connector
    thread, form = await open_form(world)
    card = card_of(form)
    assert "Principles" in card_text(form) and "A day without meetings" in card_text(form)

    # A rule with no principle, an action without a date: the card comes back with sentences and values.
    ann = owner_value(card, "Ann Peeters")
    values = {**submit_data(card), **inputs(card), "rules": "Threads, always.", "a1_text": "Write the guide",
              "a1_owner": ann}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=form["id"], conversation_id=thread))
    again = await bc.wait_for(lambda: "principle" in card_text(bc.activities(thread)[0]) and bc.activities(thread)[0])
    assert "Every action needs a due date." in card_text(again)
    assert inputs(card_of(again))["rules"] == "Threads, always." and inputs(card_of(again))["a1_text"] == "Write the guide"
    assert bc.activities(CHANNEL_ID) == []

    due = (date.today() + timedelta(days=9)).isoformat()
    values = {**submit_data(card_of(again)), **inputs(card_of(again)), "principles": "Writing first.",
              "a1_due": due, "agenda": "yes"}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=again["id"], conversation_id=thread))
    [post] = await bc.wait_for(lambda: bc.activities(CHANNEL_ID))
    assert "version 1" in card_text(post) and "Writing first." in card_text(post)
    assert "Write the guide — Ann Peeters" in card_text(post) and "A meeting needs an agenda." in card_text(post)

    # Someone who isn't the lead: a sentence, no form.
    bob_thread, refused = await open_form(world, sender=BOB)
    assert "Only the lead" in card_text(refused)

    # Republish: the same channel message, edited, with the next version.
    thread, form = await open_form(world)
    card = card_of(form)
    assert inputs(card)["principles"] == "Writing first."
    values = {**submit_data(card), **inputs(card), "rules": "Threads, always.\nNo chat after six."}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=form["id"], conversation_id=thread))
    await bc.wait_for(lambda: "version 2" in card_text(bc.activities(CHANNEL_ID)[0]))
    assert len(bc.activities(CHANNEL_ID)) == 1 and "No chat after six." in card_text(bc.activities(CHANNEL_ID)[0])

    # `afspraken` shows the current one.
    shown_thread, shown = await open_form(world, text="afspraken")
    assert "version 2" in card_text(shown)
    assert world.assert_every_card_valid() >= 5


async def test_the_owner_gets_the_action_dms_on_teams_and_done_shows_in_the_channel(world):
    from datetime import datetime, time, timezone
    from zoneinfo import ZoneInfo

    bc = world.connector
    thread, form = await open_form(world)
    card = card_of(form)
    due = date.today() + timedelta(days=9)
    while due.weekday() >= 5:
        due += timedelta(days=1)
    values = {**submit_data(card), **inputs(card), "principles": "Writing first.", "a1_text": "Write the guide",
              "a1_owner": owner_value(card, "Ann Peeters"), "a1_due": due.isoformat()}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=form["id"], conversation_id=thread))
    await bc.wait_for(lambda: bc.activities(CHANNEL_ID))
    chat = personal_conversation_id(ANN)

    def action_dms():
        return [a for a in bc.activities(chat) if "Write the guide" in card_text(a)]

    on_the_day = datetime.combine(due, time(9, 5), ZoneInfo("Europe/Brussels")).astimezone(timezone.utc)
    for _ in range(2):
        await world.run_due(on_the_day)
    [today] = action_dms()  # the day before's DM, missed (nobody ran jobs then), isn't sent late
    assert "due today" in card_text(today)
    await world.send(card_submit(bc.service_url, submit_data(card_of(today), "Done"), sender=ANN,
                                 reply_to_id=today["id"], conversation_id=chat))
    await bc.wait_for(lambda: "(done)" in card_text(bc.activities(CHANNEL_ID)[0]))
    assert world.assert_every_card_valid() >= 3
