"""The whole reflection round on Teams, through the real `unmeet serve` and botbuilder over HTTP."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from core.domain.rounds import REMINDER_GAP, reminder_time
from tests.fakes.teams_activities import CHANNEL_ID, card_submit, channel_message, personal_conversation_id
from tests.teams_app.conftest import ANN, BOB, CEM, DIRK, EVA, card_of, card_text, inputs, submit_data

BRUSSELS = ZoneInfo("Europe/Brussels")  # Ann's client reports it (clientInfo entity)


async def share_round(world, *, title="Deep work", deadline_days=7) -> tuple[str, dict]:
    """Ann mentions the bot with `share insight` and submits the form; returns the thread and the form."""
    bc = world.connector
    mention = channel_message(bc.service_url, "Share-Insight", sender=ANN)
    await world.send(mention)
    thread = mention["conversation"]["id"]
    [form] = await bc.wait_for(lambda: bc.activities(thread))
    card = card_of(form)
    values = {**submit_data(card), **inputs(card), "title": title, "link": "https://example.com/deep-work",
              "deadline": (date.today() + timedelta(days=deadline_days)).isoformat()}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=form["id"], conversation_id=thread))
    return thread, form


def posts(bc) -> list[dict]:
    return bc.activities(CHANNEL_ID)


async def test_the_whole_round(world):
    bc = world.connector
    bc.fail_create(EVA.id)  # the app isn't installed for Eva: her chat can't be created
    thread, form = await share_round(world)

    # The form card becomes what happened; the insight is posted in the channel with an Answer button.
    await bc.wait_for(lambda: "Shared." in card_text(bc.activities(thread)[0]))
    [post] = await bc.wait_for(lambda: posts(bc))
    assert "Deep work" in card_text(post) and "Answer" in card_text(post)
    assert "Shared by Ann Peeters" in card_text(post)

    # Everyone but Ann gets a 1:1 chat; Eva can't, and Ann is told (in her own new 1:1 chat).
    await bc.wait_for(lambda: all(bc.activities(personal_conversation_id(p)) for p in (BOB, CEM, DIRK)))
    report = await bc.wait_for(lambda: bc.activities(personal_conversation_id(ANN)))
    assert "1 person in the channel did not get the questions" in card_text(report[0])
    assert "could not be messaged" in card_text(report[0])
    created = {c["member_id"] for c in bc.created_conversations}
    assert created == {BOB.id, CEM.id, DIRK.id, ANN.id}
    [cem_dm] = bc.activities(personal_conversation_id(CEM))
    assert "Antwoorden" in card_text(cem_dm) or "Answer" in card_text(cem_dm)

    # Bob presses Answer in his chat: the form arrives under it; he submits, the answer is in the thread.
    bob_chat = personal_conversation_id(BOB)
    [bob_dm] = bc.activities(bob_chat)
    await world.send(card_submit(bc.service_url, submit_data(card_of(bob_dm)), sender=BOB, reply_to_id=bob_dm["id"]))
    [_, answer_form] = await bc.wait_for(lambda: len(bc.activities(bob_chat)) == 2 and bc.activities(bob_chat))
    values = {**submit_data(card_of(answer_form)), "a1": "Focus *matters*", "a2": "Mail, chat", "a3": "Block mornings"}
    await world.send(card_submit(bc.service_url, values, sender=BOB, reply_to_id=answer_form["id"]))
    replies_thread = f"{CHANNEL_ID};messageid={post['id']}"
    [reply] = await bc.wait_for(lambda: bc.activities(replies_thread))
    assert "Answer from Bob Jansen" in card_text(reply)
    assert "Focus \\*matters\\*" in card_text(reply)  # shown literally, not as emphasis
    thanks = await bc.wait_for(lambda: "Thank you" in card_text(bc.activities(bob_chat)[1])
                               and bc.activities(bob_chat)[1])

    # Bob changes his answers: the same thread reply is updated, no second copy.
    await world.send(card_submit(bc.service_url, submit_data(card_of(thanks), "Change my answers"), sender=BOB,
                                 reply_to_id=thanks["id"]))
    new_form = (await bc.wait_for(lambda: len(bc.activities(bob_chat)) == 3 and bc.activities(bob_chat)))[2]
    assert inputs(card_of(new_form))["a1"] == "Focus *matters*"  # his earlier answer, to edit
    values = {**submit_data(card_of(new_form)), "a1": "Focus is rare", "a2": "Mail", "a3": "Mornings"}
    await world.send(card_submit(bc.service_url, values, sender=BOB, reply_to_id=new_form["id"]))
    await bc.wait_for(lambda: "Focus is rare" in card_text(bc.activities(replies_thread)[0]))
    assert len(bc.activities(replies_thread)) == 1

    # Reminders, an hour before the deadline: only those who haven't answered, once.
    deadline = datetime.combine(date.today() + timedelta(days=7), time(17), BRUSSELS).astimezone(timezone.utc)
    await world.run_due(deadline - timedelta(hours=1))
    for person in (CEM, DIRK):
        assert len(bc.activities(personal_conversation_id(person))) == 2, person.name
        assert "gentle reminder" in card_text(bc.activities(personal_conversation_id(person))[1]).lower() or \
            "herinnering" in card_text(bc.activities(personal_conversation_id(person))[1]).lower()
    assert len(bc.activities(bob_chat)) == 3  # no reminder for Bob (his chat: questions, two forms)
    await world.run_due(deadline - timedelta(minutes=30))
    assert len(bc.activities(personal_conversation_id(DIRK))) == 2

    # The close: the summary in the thread, the post loses its Answer button.
    await world.run_due(deadline + timedelta(minutes=1))
    summary = bc.activities(replies_thread)[-1]
    assert "Summary of the round" in card_text(summary)
    assert "1 person answered" in card_text(summary)
    # Its quote links to Bob's answer: Teams' deep link to a reply in the thread of the post.
    assert f"/l/message/{CHANNEL_ID}/{reply['id']}?" in card_text(summary)
    assert f"&parentMessageId={post['id']})" in card_text(summary)
    # (the channel may also hold the weekly digest: a week from today can reach its Monday hour)
    [closed_post] = [p for p in posts(bc) if p["id"] == post["id"]]
    assert "This round is closed" in card_text(closed_post) and "Answer" not in card_text(closed_post)

    # A stale card: Cem presses Answer on his DM after the close.
    [cem_dm, _] = bc.activities(personal_conversation_id(CEM))
    await world.send(card_submit(bc.service_url, submit_data(card_of(cem_dm)), sender=CEM, reply_to_id=cem_dm["id"]))
    closed = await bc.wait_for(lambda: bc.activities(personal_conversation_id(CEM))[2:])
    assert "gesloten" in card_text(closed[0])  # Cem's Teams speaks Dutch

    assert world.assert_every_card_valid() >= 12


async def test_people_who_never_wrote_are_reminded_at_the_teams_hour_not_utcs(world):
    """Teams tells a person's zone only with their own activities. Cem never wrote to the bot, so his
    reminder follows the zone Ann's client told (Brussels), not UTC, an hour later in winter."""
    bc = world.connector
    await share_round(world)
    cem_chat = personal_conversation_id(CEM)
    await bc.wait_for(lambda: bc.activities(cem_chat))
    deadline = datetime.combine(date.today() + timedelta(days=7), time(17), BRUSSELS).astimezone(timezone.utc)
    at = reminder_time(deadline, "Europe/Brussels", datetime.now(timezone.utc) + REMINDER_GAP)
    assert at != reminder_time(deadline, "UTC", datetime.now(timezone.utc) + REMINDER_GAP)
    await world.run_due(at - timedelta(minutes=1))
    assert len(bc.activities(cem_chat)) == 1
    await world.run_due(at + timedelta(minutes=1))
    await bc.wait_for(lambda: len(bc.activities(cem_chat)) == 2)
    assert "gentle reminder" in card_text(bc.activities(cem_chat)[1]).lower()  # his language isn't known either
