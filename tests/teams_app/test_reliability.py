"""Teams faults and bad input (shared/reliability.md 11–17; 10 is in test_tokens.py), through the real
`unmeet serve`."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime, time, timedelta, timezone

import aiohttp
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from core.persistence.tables import members, rounds, workspaces
from core.persistence.tables_teams import teams_conversations
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.teams_activities import (CHANNEL_ID, TEAM_ID, card_submit, channel_message, members_removed,
                                          personal_conversation_id, personal_message)
from tests.teams_app.conftest import (ANN, BOB, CEM, DIRK, EVA, ROOT, card_of, card_text, server_env, inputs, start,
                                      stop, submit_data)
from tests.teams_app.test_round import BRUSSELS, share_round


async def test_transient_failures_are_retried_and_a_blocked_person_is_not_messaged_again(world):
    bc = world.connector
    bc.fail_next("create", 429, times=2)  # Retry-After from the fake, sped up
    bc.fail_next("send", 503, times=1)
    bc.fail_next("send", 412, times=1)
    bc.fail_next("send", 502, times=1)
    bc.block_member(DIRK.id)
    await share_round(world)

    report = await bc.wait_for(lambda: bc.activities(personal_conversation_id(ANN)), timeout=15)
    for person in (BOB, CEM, EVA):
        assert len(bc.activities(personal_conversation_id(person))) == 1, person.name
    assert "1 person in the channel did not get the questions" in card_text(report[0])
    assert "1 has blocked the app" in card_text(report[0])
    statuses = [r.status for r in bc.requests]
    assert statuses.count(429) >= 2 and 503 in statuses and 412 in statuses and 502 in statuses
    async with world.db.transaction() as conn:
        reason = (await conn.execute(sa.select(members.c.unreachable).where(
            members.c.external_id == DIRK.id))).scalar_one()
    assert reason == "blocked"

    # The reminder goes to those who can be reached; nothing more is sent towards Dirk.
    tried_dirk = len([r for r in bc.requests if DIRK.id in r.path or DIRK.id in str(r.json)])
    deadline = datetime.combine(date.today() + timedelta(days=7), time(17), BRUSSELS).astimezone(timezone.utc)
    await world.run_due(deadline - timedelta(hours=1))
    assert len(bc.activities(personal_conversation_id(BOB))) == 2
    assert len([r for r in bc.requests if DIRK.id in r.path or DIRK.id in str(r.json)]) == tried_dirk
    assert world.assert_every_card_valid() > 5


async def test_bad_input_gets_polite_cards_never_a_5xx(world):
    bc = world.connector
    thread, form = await share_round(world, title="")  # required title left empty
    # The form comes back in place, the values kept, the sentence under the title.
    await bc.wait_for(lambda: "Please fill this in." in card_text(bc.activities(thread)[0]))
    card = card_of(bc.activities(thread)[0])
    assert next(e for e in card["body"] if e.get("id") == "link")["value"] == "https://example.com/deep-work"

    # Oversized text: the sentence says so; the card stays a sendable size.
    values = {**submit_data(card), **inputs(card), "title": "Long", "link": "", "text": "x" * 200_000,
              "deadline": (date.today() + timedelta(days=3)).isoformat()}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=form["id"], conversation_id=thread))
    await bc.wait_for(lambda: "under 3000 characters (it has 200000)" in card_text(bc.activities(thread)[0]))
    assert len(str(card_of(bc.activities(thread)[0]))) < 20_000

    # A javascript: link is refused with a sentence.
    card = card_of(bc.activities(thread)[0])
    values = {**submit_data(card), **inputs(card), "title": "Link", "link": "javascript:alert(1)", "text": "",
              "deadline": (date.today() + timedelta(days=3)).isoformat()}
    await world.send(card_submit(bc.service_url, values, sender=ANN, reply_to_id=form["id"], conversation_id=thread))
    await bc.wait_for(lambda: "starting with https://" in card_text(bc.activities(thread)[0]))

    # The same card submitted twice (a double click): one round, and a polite word for the second.
    card = card_of(bc.activities(thread)[0])
    values = {**submit_data(card), **inputs(card), "title": "Once", "link": "https://example.com", "text": "",
              "deadline": (date.today() + timedelta(days=3)).isoformat()}
    submit = card_submit(bc.service_url, values, sender=ANN, reply_to_id=form["id"], conversation_id=thread)
    await asyncio.gather(world.send(submit), world.send({**submit, "id": submit["id"] + "1"}))
    await bc.wait_for(lambda: any("only once" in card_text(a) for a in bc.activities(thread)))
    async with world.db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(rounds))).scalar_one() == 1, [card_text(a) for a in bc.activities(thread)]

    # Unknown command, unknown card action, a card without its nonce: help, politely.
    unknown = channel_message(bc.service_url, "dance <b>now</b> *please*", sender=BOB)
    await world.send(unknown)
    await world.send(personal_message(bc.service_url, "hulp", sender=CEM))
    await world.send(card_submit(bc.service_url, {"unmeet": "no.such.action"}, sender=CEM, reply_to_id="1"))
    await world.send(card_submit(bc.service_url, {"unmeet": "round.answer_form", "meta": "1"}, sender=CEM,
                                 reply_to_id="1"))
    await world.send(card_submit(bc.service_url, {"unmeet": "round.answer", "value": "999"}, sender=CEM,
                                 reply_to_id="1"))
    chat = personal_conversation_id(CEM)

    def cem_saw(*sentences):
        return all(any(sentence in card_text(a) for a in bc.activities(chat)) for sentence in sentences)

    await bc.wait_for(lambda: cem_saw("Vermeld me in een teamkanaal", "Die kaart is verouderd",
                                      "bestaat niet meer"), timeout=10)  # in Dutch, as Cem's Teams speaks it
    assert sum("Die kaart is verouderd" in card_text(a) for a in bc.activities(chat)) == 2
    [help_card] = await bc.wait_for(lambda: bc.activities(unknown["conversation"]["id"]))
    assert "I don't know “dance now \\*please\\*”" in card_text(help_card)  # his text shown literally
    assert "share insight" in card_text(help_card)
    # every reply (some may still be on their way) is a valid card
    await bc.wait_for(lambda: world.assert_every_card_valid() >= 8, timeout=10)


async def test_a_member_who_left_gets_no_reminder_and_still_gets_a_polite_card(world):
    bc = world.connector
    await share_round(world)
    await bc.wait_for(lambda: bc.activities(personal_conversation_id(DIRK)))
    await world.send(members_removed(bc.service_url, [DIRK], removed_by=ANN))
    deadline = datetime.combine(date.today() + timedelta(days=7), time(17), BRUSSELS).astimezone(timezone.utc)
    await world.run_due(deadline - timedelta(hours=1))
    assert len(bc.activities(personal_conversation_id(DIRK))) == 1
    assert len(bc.activities(personal_conversation_id(BOB))) == 2
    [dm] = bc.activities(personal_conversation_id(DIRK))
    await world.send(card_submit(bc.service_url, submit_data(card_of(dm)), sender=DIRK, reply_to_id=dm["id"]))
    await bc.wait_for(lambda: len(bc.activities(personal_conversation_id(DIRK))) == 2)
    world.assert_every_card_valid()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.dictionaries(st.sampled_from(["type", "id", "serviceUrl", "channelId", "from", "conversation", "recipient",
                                     "channelData", "text", "value", "entities", "membersAdded", "replyToId"]),
                    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                                 lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids,
                                                                                           max_size=3), max_leaves=8)),
    st.lists(st.integers(), max_size=3), st.text(max_size=20)))
def test_fuzzed_activities_never_get_a_5xx(fuzz_world, payload):
    url, loop = fuzz_world
    status = loop.run_until_complete(_post_json(url, payload))
    assert status < 500, payload


async def _post_json(url, payload) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=payload) as response:
            return response.status


@pytest.fixture
def fuzz_world(tmp_path):
    """A server on SQLite for the fuzz test, driven from a private event loop: hypothesis runs sync
    tests, and one server serves every example."""
    from core.persistence.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    upgrade(url)
    loop = asyncio.new_event_loop()
    connector = FakeBotConnector(rate_limits=False)
    loop.run_until_complete(connector.start())
    world = loop.run_until_complete(start(connector, url, tmp_path))
    try:
        # Each fuzzed activity points its serviceUrl somewhere; the fake stands in for all of them.
        yield f"{world.url}/api/messages", loop
    finally:
        loop.run_until_complete(stop(world))
        loop.run_until_complete(connector.stop())
        loop.close()


async def test_a_tenant_not_on_the_allow_list_is_ignored_and_nothing_stored(database_url, tmp_path):
    async with FakeBotConnector() as bc:
        bc.add_team(TEAM_ID, members=[ANN.member()], channels=[{"id": CHANNEL_ID, "name": "R"}])
        world = await start(bc, database_url, tmp_path, TEAMS_ALLOWED_TENANTS="11111111-2222-3333-4444-555555555555")
        try:
            for activity in (channel_message(bc.service_url, "share insight", sender=ANN),
                             personal_message(bc.service_url, "help", sender=ANN)):
                assert await world.send(activity) < 300
            await asyncio.sleep(0.5)
            assert bc.requests == []
            async with world.db.transaction() as conn:
                for table in (workspaces, members, teams_conversations):
                    assert (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one() == 0
        finally:
            await stop(world)


async def test_without_an_app_id_on_a_public_address_start_up_refuses(database_url):
    env = server_env(DATABASE_URL=database_url, HOST="0.0.0.0", PORT="0")
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "unmeet", "serve", "--no-migrate", cwd=ROOT,
                                                   env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode != 0
    assert "Teams has no MICROSOFT_APP_ID" in stderr.decode()
    assert "TEAMS_LOCAL_MODE=true" in stderr.decode()
