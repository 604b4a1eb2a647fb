"""The reflection round through the Microsoft 365 Agents Playground: a Teams-like client of its own,
with its own mocked Bot Connector, against the real `unmeet serve` (local mode, no app id).

Bram (a Playground user) shares in the channel; Lotte, the Playground's current user, gets the
questions in her personal chat (she wrote to the bot once first, so her chat's reference is
stored: the Playground shows proactive messages only in chats it knows), answers, and sees her
answer and, after the close, the summary in the thread. Skips without Node.js or node_modules;
CI runs `npm ci` first.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone

import pytest

from tests.fakes.cards import assert_valid_card
from tests.fakes.playground import Playground
from tests.teams_app.conftest import free_port, inputs, start, stop, submit_data

pytestmark = pytest.mark.node

BRAM = "29:user-bram"


def text_of(message: dict) -> str:
    out: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            out.extend(node[k] for k in ("text", "label", "title") if isinstance(node.get(k), str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message.get("attachments") or [])
    return "\n".join(out)


def card(message: dict) -> dict:
    return message["attachments"][0]["content"]


@pytest.fixture
async def playground_world(database_url, tmp_path):
    if not Playground.available():
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Playground test: {Playground.unavailable_reason()}")
        pytest.skip(Playground.unavailable_reason())
    port = free_port()
    world = await start(None, database_url, tmp_path, PORT=str(port))
    try:
        async with Playground(f"http://127.0.0.1:{port}/api/messages") as pg:
            yield world, pg
    finally:
        await stop(world)


async def test_a_round_through_the_agents_playground(playground_world):
    world, pg = playground_world
    # Lotte says hello in her personal chat first: that chat's reference is now stored.
    await pg.send(pg.personal_chat_id, "help")
    [help_card] = await pg.wait_for(lambda: pg.bot_messages(pg.personal_chat_id))
    assert "share insight" in text_of(help_card)

    # Bram mentions the bot in the channel; the share form arrives in the thread.
    sent = await pg.send(pg.channel_id, "share insight", mention_bot=True, from_id=BRAM)
    thread = sent["postConversationId"]
    [form] = await pg.wait_for(lambda: pg.bot_messages(thread))
    assert "Share an insight" in text_of(form)
    deadline_day = date.today() + timedelta(days=5)
    values = {**submit_data(card(form)), **inputs(card(form)), "title": "Async by default",
              "link": "https://example.com/async", "deadline": deadline_day.isoformat()}
    await pg.submit(thread, form["messageId"], values, from_id=BRAM)

    # The insight card in the channel, and the questions in Lotte's personal chat.
    [post] = await pg.wait_for(lambda: pg.bot_messages(pg.channel_id), timeout=20)
    assert "Async by default" in text_of(post) and "Answer" in text_of(post)
    dm = (await pg.wait_for(lambda: pg.bot_messages(pg.personal_chat_id)[1:], timeout=20))[0]
    assert "Async by default" in text_of(dm) and "Answer" in text_of(dm)

    # Lotte answers: Answer -> the form under it -> her answer in the channel's thread.
    await pg.submit(pg.personal_chat_id, dm["messageId"], submit_data(card(dm)))
    answer_form = (await pg.wait_for(lambda: pg.bot_messages(pg.personal_chat_id)[2:]))[0]
    values = {**submit_data(card(answer_form)), "a1": "Pieter, *surely*", "a2": "Mail, chat, docs",
              "a3": "Write first"}
    await pg.submit(pg.personal_chat_id, answer_form["messageId"], values)
    post_thread = f"{pg.channel_id};messageid={post['messageId']}"
    [reply] = await pg.wait_for(lambda: pg.bot_messages(post_thread), timeout=20)
    assert "Answer from Lotte Peeters" in text_of(reply) and "Pieter, \\*surely\\*" in text_of(reply)
    await pg.wait_for(lambda: any("Thank you" in text_of(m) for m in pg.bot_messages(action="updateMessage")))

    # The close, from another process at the deadline: the summary in the thread, the post closed.
    deadline = datetime.combine(deadline_day, time(17), timezone.utc) + timedelta(hours=3)
    await world.run_due(deadline)
    summary = (await pg.wait_for(lambda: pg.bot_messages(post_thread)[1:], timeout=20))[0]
    assert "Summary of the round" in text_of(summary) and "1 person answered" in text_of(summary)
    await pg.wait_for(lambda: any("This round is closed" in text_of(m)
                                  for m in pg.bot_messages(pg.channel_id, action="updateMessage")))

    for event in pg.conversation_events:
        for attachment in (event.get("message") or {}).get("attachments") or []:
            assert_valid_card(attachment["content"])
