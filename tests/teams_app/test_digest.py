"""The digest, home and settings on Teams, end to end: one real `unmeet serve` for the module, the
loopback fake Bot Connector, and `unmeet jobs run-due --now …` standing at the digest time.

Ann added the app to the team (so she manages its channels' settings), Eva is in TEAMS_ADMINS,
Bob and Cem are members. One open round in the channel, answered by Bob only. A second team added the
app before the bot stored teams' group ids (its install came without one): one round there too.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from tests.digest.seed import World
from tests.fakes.bot_connector import DEFAULT_TENANT_ID, FakeBotConnector
from tests.fakes.cards import assert_valid_card
from tests.fakes.teams_activities import (CHANNEL_ID, TEAM_AAD_GROUP_ID, TEAM_ID, bot_added_to_team, card_submit,
                                          channel_message, personal_conversation_id, personal_message)
from tests.teams_app.conftest import ANN, BOB, CEM, DIRK, EVA, card_of, card_text, inputs, start, stop, submit_data

pytestmark = pytest.mark.asyncio(loop_scope="module")

BRUSSELS = ZoneInfo("Europe/Brussels")
NOW = datetime.now(timezone.utc)
TITLE = "Deep work in a noisy office"
POST_ID = "1700000000123"  # the round's post in the channel
OTHER_TEAM = "19:team-other-0002@thread.tacv2"
OTHER_TITLE = "Quiet hours"


def next_digest_time(now: datetime) -> datetime:
    """The coming Friday 15:00 in Brussels (the default digest time), at least two hours away."""
    local = now.astimezone(BRUSSELS)
    friday = datetime.combine(local.date() + timedelta(days=(4 - local.weekday()) % 7), time(15), BRUSSELS)
    if friday - now < timedelta(hours=2):
        friday += timedelta(days=7)
    return friday.astimezone(timezone.utc)


async def seed(world) -> None:
    async with world.db.transaction() as conn:
        place = await World(conn, platform="teams", team=DEFAULT_TENANT_ID, channel=CHANNEL_ID, now=NOW).setup()
        bob, cem, dirk = [await place.member(p.id, p.name) for p in (BOB, CEM, DIRK)]
        await place.round(TITLE, created=NOW - timedelta(minutes=1), deadline=NOW + timedelta(days=10),
                          asked=[bob, cem, dirk], answered={bob: NOW - timedelta(minutes=1)}, post=POST_ID)
        other = await World(conn, platform="teams", team=DEFAULT_TENANT_ID, channel=OTHER_TEAM, now=NOW).setup()
        await other.round(OTHER_TITLE, created=NOW - timedelta(minutes=1), deadline=NOW + timedelta(days=10),
                          asked=[dirk], post=POST_ID)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(module_database_url, tmp_path_factory):
    async with FakeBotConnector(speedup=20) as connector:
        connector.add_team(TEAM_ID, members=[p.member() for p in (ANN, BOB, CEM, DIRK, EVA)],
                           channels=[{"id": CHANNEL_ID, "name": "Reflections"}], name="Product team")
        connector.add_team(OTHER_TEAM, members=[p.member() for p in (ANN, BOB)], name="Other team")
        running = await start(connector, module_database_url, tmp_path_factory.mktemp("logs"),
                              TEAMS_ADMINS=f"someone-else,{EVA.aad_object_id}")
        try:
            await running.send(bot_added_to_team(connector.service_url, added_by=ANN))
            older_install = bot_added_to_team(connector.service_url, added_by=ANN, team_id=OTHER_TEAM)
            del older_install["channelData"]["team"]["aadGroupId"]
            await running.send(older_install)
            # The round was shared in the channel: the bot has been mentioned there, so it can post there.
            await running.send(channel_message(connector.service_url, "help", sender=ANN))
            await seed(running)
            yield running
        finally:
            await stop(running)


def chat(person) -> str:
    return personal_conversation_id(person)


async def in_channel(world, person, text: str) -> tuple[dict, dict | None]:
    """Mention the bot in the channel; returns (the reply in the thread, the new card in the person's chat)."""
    bc = world.connector
    before = len(bc.activities(chat(person)))
    mention = channel_message(bc.service_url, text, sender=person)
    await world.send(mention)
    [reply] = await bc.wait_for(lambda: bc.activities(mention["conversation"]["id"]))
    private = bc.activities(chat(person))[before:]
    return reply, private[-1] if private else None


async def in_chat(world, person, text: str) -> dict:
    bc = world.connector
    before = len(bc.activities(chat(person)))
    await world.send(personal_message(bc.service_url, text, sender=person))
    await bc.wait_for(lambda: len(bc.activities(chat(person))) > before)
    return bc.activities(chat(person))[-1]


async def submit(world, person, card_activity: dict, values: dict) -> dict:
    """Submit a card in the person's chat; returns that card as it is afterwards (Teams replaces it)."""
    bc = world.connector
    data = {**inputs(card_of(card_activity)), **submit_data(card_of(card_activity)), **values}
    before = card_of(card_activity)
    await world.send(card_submit(bc.service_url, data, sender=person, reply_to_id=card_activity["id"]))
    return await bc.wait_for(lambda: next((a for a in bc.activities(chat(person))
                                           if a["id"] == card_activity["id"] and card_of(a) != before), None))


async def test_the_weekly_digest_arrives_in_the_channel_with_its_chart(world):
    bc = world.connector
    at = next_digest_time(NOW)
    await world.run_due(at - timedelta(minutes=30))  # the scheduler queues the channel's digest
    assert not bc.activities(CHANNEL_ID)
    await world.run_due(at + timedelta(seconds=30))
    [posted] = bc.activities(CHANNEL_ID)
    card = card_of(posted)
    assert_valid_card(card)
    shown = card_text(posted)
    assert "Weekly digest" in shown and TITLE in shown
    # The title links to the round's post: Teams' deep link, with the group id the install brought.
    link = (f"https://teams.microsoft.com/l/message/{CHANNEL_ID}/{POST_ID}?tenantId={DEFAULT_TENANT_ID}"
            f"&groupId={TEAM_AAD_GROUP_ID}&parentMessageId={POST_ID}")
    assert f"[{TITLE}]({link})" in shown
    assert CEM.name not in json.dumps(card) and DIRK.name not in json.dumps(card)  # no names of non-answerers
    [image] = [e for e in card["body"] if e["type"] == "Image"]
    assert image["url"].startswith("data:image/png;base64,") and image["altText"]
    assert base64.b64decode(image["url"].split(",", 1)[1]).startswith(b"\x89PNG")
    assert len(json.dumps(posted)) < 28_000  # Teams' limit for a whole bot message
    await world.run_due(at + timedelta(hours=2))  # later that day: no second digest
    assert len(bc.activities(CHANNEL_ID)) == 1
    # Where the team's group id isn't known, the title is shown as before, without a link.
    [other] = bc.activities(OTHER_TEAM)
    assert f"**{OTHER_TITLE}**" in card_text(other) and "teams.microsoft.com" not in card_text(other)


async def test_digest_command_answers_only_the_asker(world):
    reply, private = await in_channel(world, BOB, "digest")
    assert "I sent it to you in our chat" in card_text(reply) and TITLE not in card_text(reply)
    assert private is not None and "Weekly digest" in card_text(private) and TITLE in card_text(private)
    assert "1 of 3 answered" in card_text(private)
    assert not any(e["type"] == "Image" for e in card_of(private)["body"])  # the chart is for the weekly post
    assert_valid_card(card_of(private))
    assert "Mention me in the channel you mean" in card_text(await in_chat(world, BOB, "digest"))


async def test_home_shows_the_rounds_to_answer_with_the_answer_button(world):
    bc = world.connector
    reply, home = await in_channel(world, CEM, "home")  # Cem's Teams speaks Dutch
    assert "in onze chat" in card_text(reply)
    assert TITLE in card_text(home) and "Antwoorden" in card_text(home)
    assert_valid_card(card_of(home))
    await world.send(card_submit(bc.service_url, submit_data(card_of(home), "Antwoorden"), sender=CEM,
                                 reply_to_id=home["id"]))
    form = await bc.wait_for(lambda: bc.activities(chat(CEM))[-1]["id"] != home["id"] and bc.activities(chat(CEM))[-1])
    assert {"a1", "a2", "a3"} <= set(inputs(card_of(form)))
    home = await in_chat(world, BOB, "home")  # Bob answered already
    assert TITLE not in card_text(home) and "Nothing to answer right now" in card_text(home)


async def test_settings_only_for_who_added_the_app_and_the_admins(world):
    _, refused = await in_channel(world, BOB, "settings")
    assert "Only channel managers and workspace admins" in card_text(refused)
    assert not inputs(card_of(refused))

    _, form = await in_channel(world, ANN, "settings")  # Ann added the app to the team
    fields = inputs(card_of(form))
    assert {"day", "at", "tz", "language"} <= set(fields) and "llm" not in fields  # not a tenant admin
    assert_valid_card(card_of(form))
    invalid = await submit(world, ANN, form, {"tz": "Mars/Olympus"})
    assert "Mars/Olympus" in card_text(invalid)
    saved = await submit(world, ANN, invalid, {"tz": "Europe/Brussels", "at": "16:00"})
    assert "Saved." in card_text(saved)

    # Bob can't use Ann's card: the check is made again when a form comes in.
    _, other = await in_channel(world, ANN, "settings")
    assert inputs(card_of(other))["at"] == "16:00"
    bc = world.connector
    data = {**inputs(card_of(other)), **submit_data(card_of(other)), "at": "09:00"}
    before = len(bc.activities(chat(BOB)))
    await world.send(card_submit(bc.service_url, data, sender=BOB, reply_to_id=other["id"]))
    answer = (await bc.wait_for(lambda: bc.activities(chat(BOB))[before:]))[0]
    assert "Only channel managers and workspace admins" in card_text(answer)

    _, admin_form = await in_channel(world, EVA, "settings")  # Eva is in TEAMS_ADMINS
    assert {"llm", "focus_goal"} <= set(inputs(card_of(admin_form)))
    assert inputs(card_of(admin_form))["at"] == "16:00"  # Bob's 09:00 was not saved


async def test_help_lists_every_command_in_the_persons_language(world):
    shown = card_text(await in_chat(world, ANN, "help"))
    for word in ("share insight", "focus", "meeting check", "home", "digest", "settings", "help"):
        assert f"**{word}**" in shown, word
    assert "only for you" in shown
    dutch = card_text(await in_chat(world, CEM, "hulp"))
    for word in ("home", "digest", "settings", "focus"):
        assert f"**{word}**" in dutch, word
    assert "alleen voor jou" in dutch
    assert world.assert_every_card_valid() > 10
