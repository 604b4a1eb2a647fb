"""LLM help on Teams, end to end: one real `unmeet serve` for the module, wired to the loopback fake
Bot Connector and to the loopback OpenAI-compatible fake (OPENAI_BASE_URL, UNMEET_LLM_MODEL).

"Draft with AI" on the share form card replaces the card with a drafted form and posts nothing;
`summary` (and "Summarise now") gives the author a summary in their own 1:1 chat, never in the
channel, and anyone else a polite notice.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import pytest_asyncio

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.cards import assert_valid_card
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.teams_activities import (CHANNEL_ID, TEAM_ID, bot_added_to_team, card_submit, channel_message,
                                          personal_conversation_id, personal_message)
from tests.teams_app.conftest import (ANN, BOB, CEM, DIRK, EVA, card_of, card_text, inputs, start, stop,
                                      submit_data)
from tests.teams_app.test_round import posts, share_round

pytestmark = pytest.mark.asyncio(loop_scope="module")

DRAFT = "Draft with AI"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(module_database_url, tmp_path_factory):
    async with FakeOpenAI() as llm, FakeBotConnector(speedup=20) as connector:
        connector.add_team(TEAM_ID, members=[p.member() for p in (ANN, BOB, CEM, DIRK, EVA)],
                           channels=[{"id": CHANNEL_ID, "name": "Reflections"}], name="Product team")
        running = await start(connector, module_database_url, tmp_path_factory.mktemp("logs"),
                              OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="", UNMEET_LLM_MODEL="fake-model",
                              UNMEET_LLM_TIMEOUT_SECONDS="5")
        running.llm = llm
        try:
            await running.send(bot_added_to_team(connector.service_url, added_by=ANN))
            yield running
        finally:
            await stop(running)


def action_titles(card: dict) -> list[str]:
    return [a["title"] for a in card.get("actions", [])]


async def share_form(world, person=ANN) -> tuple[str, dict]:
    """`share insight` mentioned in the channel: the thread and the form card the bot answered with."""
    bc = world.connector
    mention = channel_message(bc.service_url, "share insight", sender=person)
    await world.send(mention)
    thread = mention["conversation"]["id"]
    [form] = await bc.wait_for(lambda: bc.activities(thread))
    return thread, form


async def in_channel(world, person, text: str) -> list[dict]:
    """Mention the bot with `text` in a new thread; what the bot said in that thread."""
    bc = world.connector
    mention = channel_message(bc.service_url, text, sender=person)
    await world.send(mention)
    return await bc.wait_for(lambda: bc.activities(mention["conversation"]["id"]), timeout=10)


async def answer(world, person, title: str, texts: tuple[str, str, str]) -> None:
    """`person` presses Answer on the round's questions in their chat and submits the form."""
    bc = world.connector
    chat = personal_conversation_id(person)
    [questions] = await bc.wait_for(lambda: [a for a in bc.activities(chat) if title in card_text(a)], timeout=10)
    seen = len(bc.activities(chat))
    await world.send(card_submit(bc.service_url, submit_data(card_of(questions)), sender=person,
                                 reply_to_id=questions["id"]))
    [form] = await bc.wait_for(lambda: bc.activities(chat)[seen:], timeout=10)
    values = {**submit_data(card_of(form)), "a1": texts[0], "a2": texts[1], "a3": texts[2]}
    await world.send(card_submit(bc.service_url, values, sender=person, reply_to_id=form["id"]))
    await bc.wait_for(lambda: not inputs(card_of(bc.activities(chat)[seen])), timeout=10)  # the thank-you


async def test_draft_with_ai_replaces_the_share_card_with_a_drafted_form_and_posts_nothing(world):
    bc, llm = world.connector, world.llm
    thread, form = await share_form(world)
    card = card_of(form)
    assert DRAFT in action_titles(card)

    # Ann typed bullets in Text and her own second question; she presses Draft with AI.
    llm.script(Reply(content={"title": "Why status meetings go",
                              "post": "Read it in your own time: deep work needs long quiet stretches.",
                              "questions": ["Where do you see yourself in this?", "",
                                            "What will you change next week?"]}))
    typed = {**inputs(card), "title": "", "text": "- Deep work, chapter 1\n- why our status meetings go",
             "q2": "My own question?"}
    before, calls = len(bc.all_activities()), llm.calls
    await world.send(card_submit(bc.service_url, {**typed, **submit_data(card, DRAFT)}, sender=ANN,
                                 reply_to_id=form["id"], conversation_id=thread))
    drafted = await bc.wait_for(lambda: card_of(bc.activities(thread)[0]) != card and card_of(bc.activities(thread)[0]),
                                timeout=10)

    assert_valid_card(card)
    assert_valid_card(drafted)  # replaced later, so checked now
    assert llm.calls == calls + 1
    assert "why our status meetings go" in llm.requests[-1].user
    values = inputs(drafted)
    assert values["title"] == "Why status meetings go"
    assert values["text"].startswith("Read it in your own time")
    assert (values["q1"], values["q2"], values["q3"]) == (
        "Where do you see yourself in this?", "My own question?", "What will you change next week?")
    assert DRAFT in action_titles(drafted)  # she can draft again
    assert submit_data(drafted)["channel"] == CHANNEL_ID  # no channel input on Teams: the card keeps it
    # The same card changed in place: no new message, nothing in the channel.
    assert len(bc.all_activities()) == before and len(bc.activities(thread)) == 1
    assert posts(bc) == [] and not [c for c in bc.created_conversations if c["is_group"]]

    # Submitting the drafted card shares the drafted round.
    values["deadline"] = (date.today() + timedelta(days=7)).isoformat()
    await world.send(card_submit(bc.service_url, {**values, **submit_data(drafted)}, sender=ANN,
                                 reply_to_id=form["id"], conversation_id=thread))
    await bc.wait_for(lambda: "Shared." in card_text(bc.activities(thread)[0]), timeout=10)
    [post] = await bc.wait_for(lambda: posts(bc), timeout=10)
    assert "What will you change next week?" in card_text(post)
    assert "Why status meetings go" in card_text(post)
    assert world.assert_every_card_valid() >= 2


async def test_without_an_llm_endpoint_the_share_card_has_no_draft_action(world, module_database_url,
                                                                           tmp_path_factory):
    """A second server on the same database and connector, without any OPENAI_ setting."""
    plain = await start(world.connector, module_database_url, tmp_path_factory.mktemp("plain-logs"))
    try:
        _, form = await share_form(plain)
    finally:
        await stop(plain)
    card = card_of(form)
    assert_valid_card(card)
    assert DRAFT not in action_titles(card) and "Share" in card_text(form)
    assert "title" in inputs(card)


async def test_summary_goes_to_the_authors_chat_and_others_get_a_notice(world):
    bc, llm = world.connector, world.llm
    # A fresh channel post for this round (the draft test shared one before it).
    thread, _ = await share_round(world, title="Focus mornings")
    shared = await bc.wait_for(lambda: "Shared." in card_text(bc.activities(thread)[0])
                               and card_of(bc.activities(thread)[0]), timeout=10)
    assert "Summarise now" in action_titles(shared)
    await answer(world, BOB, "Focus mornings", ("Mornings without meetings help me think deeply.",
                              "Deep work, shallow work and meetings.", "I will block two focus mornings every week."))
    await answer(world, CEM, "Focus mornings", ("Quiet mornings without meetings help me focus.",
                              "Planning, building and firefighting.", "I will turn off chat until lunch."))
    [post] = [p for p in posts(bc) if "Focus mornings" in card_text(p)]
    round_thread = f"{CHANNEL_ID};messageid={post['id']}"
    await bc.wait_for(lambda: len(bc.activities(round_thread)) == 2, timeout=10)
    in_channel_before = len([a for a in bc.all_activities() if a["conversation"]["id"].startswith(CHANNEL_ID)])
    ann_chat = personal_conversation_id(ANN)
    assert bc.activities(ann_chat) == []  # no report for Ann: everyone was reached

    # Ann asks in the channel: the thread says where to look; the summary is in her own chat.
    calls = llm.calls
    [reply] = await in_channel(world, ANN, "summary")
    assert "I sent you the summary in our chat." in card_text(reply)
    [summary] = await bc.wait_for(lambda: bc.activities(ann_chat), timeout=10)
    text = card_text(summary)
    assert "Summary of the round" in text and "2 people answered" in text
    assert "Written by AI (fake-model)" in text
    assert llm.calls == calls + 1 and "Quiet mornings" in llm.requests[-1].user
    # Nothing about it in the channel but the short pointer in Ann's own thread.
    channel_now = [a for a in bc.all_activities() if a["conversation"]["id"].startswith(CHANNEL_ID)]
    assert len(channel_now) == in_channel_before + 1
    assert not [a for a in channel_now if "Summary of the round" in card_text(a)]

    # In her chat, in Dutch or English, the summary comes right there.
    await world.send(personal_message(bc.service_url, "samenvatting", sender=ANN))
    again = await bc.wait_for(lambda: bc.activities(ann_chat)[1:], timeout=10)
    assert "Written by AI (fake-model)" in card_text(again[0])

    # Bob has no round of his own; pressing Ann's "Summarise now" in the thread gets him a polite no.
    calls = llm.calls
    [no_round] = await in_channel(world, BOB, "summarize")
    assert "You have no open round here to summarise." in card_text(no_round)
    bob_before = len(bc.activities(thread))
    await world.send(card_submit(bc.service_url, submit_data(shared, "Summarise now"), sender=BOB,
                                 reply_to_id=bc.activities(thread)[0]["id"], conversation_id=thread))
    [not_author] = await bc.wait_for(lambda: bc.activities(thread)[bob_before:], timeout=10)
    assert "Only the person who shared this round can summarise it" in card_text(not_author)
    assert llm.calls == calls
    assert not [a for a in bc.all_activities() if "Summary of the round" in card_text(a)
                and a["conversation"]["id"] != ann_chat]
    assert len(bc.activities(ann_chat)) == 2

    assert world.assert_every_card_valid() >= 10
