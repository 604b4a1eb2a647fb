"""The One Thing on Slack, end to end (in this order: the digest test stands at this week's digest, the
check test a week later): the real `unmeet serve` and `unmeet jobs run-due --now …` over real
HTTP, requests signed like Slack's, the loopback fake Slack Web API (which enforces Block Kit limits and
single-use trigger ids); SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.domain import one_thing as rules
from core.domain.digest import next_digest
from core.domain.rounds import zone
from core.persistence.db import Database
from tests.digest.seed import World as DigestWorld
from tests.fakes import slack_requests
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving
from tests.slack_app.test_round import texts

pytestmark = pytest.mark.asyncio(loop_scope="module")
UTC = timezone.utc
TZ = "Europe/Brussels"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeSlackApi(BOT_TOKEN) as slack:
        for uid, name in (("U1", "Ann"), ("U2", "Bart"), ("U3", "Chris"), ("U4", "Dirk")):
            slack.add_user(uid, name.lower(), name)
        slack.add_user("U5", "eva", "Eva", locale="nl-BE")
        slack.add_channel("C1", "team", members=["U1", "U2", "U3", "U4", "U5"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def one_thing(server, user: str, text: str, channel: str = "C1") -> dict | None:
    """Type `/one-thing text`; the ephemeral reply (None when a modal opened instead)."""
    slack = server.slack
    before, views_before = len(slack.ephemerals), len(slack.calls_to("views.open"))
    status, _ = await server.post(slack_requests.slash_command("/one-thing", text, user_id=user, channel_id=channel,
                                                               trigger_id=slack.new_trigger_id(user)))
    assert status == 200
    await slack.wait_for(lambda: len(slack.ephemerals) > before or len(slack.calls_to("views.open")) > views_before)
    return slack.ephemerals[-1] if len(slack.ephemerals) > before else None


async def stored(server, user: str) -> list:
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.text(
            "SELECT o.id, o.text, o.shared, o.recorded_at, o.replaced_at, o.check_answer, o.check_note "
            "FROM one_things o JOIN members m ON m.id = o.member_id WHERE m.external_id = :u ORDER BY o.id"),
            {"u": user})).all()


def aware(value) -> datetime:
    value = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def working_morning_after(moment: datetime) -> datetime:
    """10:00 in Brussels on the first working day after `moment`'s day: a focus session of 40 minutes
    then ends well inside working hours."""
    zi = zone(TZ)
    day = moment.astimezone(zi).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=zi).astimezone(UTC)


def check_dms(server, user: str) -> list[dict]:
    return [m for m in server.slack.dms(user) if "Still doing it?" in texts(m) or "Doe je het nog?" in texts(m)]


def buttons(message: dict, action_id: str) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]
            if e.get("action_id") == action_id]


async def press(server, user: str, action: str, value: str = "", channel: str | None = "C1") -> None:
    status, _ = await server.post(slack_requests.block_action(action, value, user_id=user, channel_id=channel,
                                                              trigger_id=server.slack.new_trigger_id(user)))
    assert status == 200


async def opened_view(server, user: str, callback_id: str) -> dict:
    views = await server.slack.wait_for(lambda: [v for v in server.slack.open_views(user)
                                                 if v["callback_id"] == callback_id])
    return views[-1]


async def test_record_replace_and_the_home_shows_it_with_its_history(server):
    slack = server.slack
    reply = await one_thing(server, "U1", "Ask before assuming")
    assert "Ask before assuming" in texts(reply) and "In a week I'll ask" in texts(reply)
    reply = await one_thing(server, "U1", "Protect two mornings a week")
    assert "replaces your earlier One Thing" in texts(reply)
    first, second = await stored(server, "U1")
    assert first.replaced_at is not None and second.replaced_at is None

    status, _ = await server.post(slack_requests.event({"type": "app_home_opened", "user": "U1", "tab": "home"},
                                                       event_id="EvHomeU1"))
    assert status == 200
    home = await slack.wait_for(lambda: slack.home_views.get("U1"))
    assert "Protect two mornings a week" in texts(home) and "Ask before assuming" in texts(home)
    assert buttons(home, "onething.record")

    # The Home's button opens the form; what is saved there shows on the Home at once.
    await press(server, "U1", "onething.record", channel=None)
    form = await opened_view(server, "U1", "onething.form")
    status, answer = await server.submit("U1", form, {"text": "Write decisions down", "share": "private"})
    assert status == 200 and answer in (None, {"response_action": "clear"})
    await slack.wait_for(lambda: "Write decisions down" in texts(slack.home_views.get("U1") or {}))
    assert "Protect two mornings a week" in texts(slack.home_views["U1"])

    shown = await one_thing(server, "U1", "")
    assert "Write decisions down" in texts(shown) and "Before" in texts(shown)
    assert "Ask before assuming" in texts(shown) and "Protect two mornings a week" in texts(shown)


async def test_bad_input_keeps_what_was_typed_and_a_second_submit_adds_no_row(server):
    slack = server.slack
    long_text = "Listen " + "x" * 600
    assert await one_thing(server, "U4", long_text + " #share") is None  # the form opened instead
    form = await opened_view(server, "U4", "onething.form")
    assert form["blocks"][-2]["element"]["initial_value"] == long_text  # every character kept
    assert "under 500 characters (it has 607)" in texts(form)
    assert form["blocks"][-1]["element"]["initial_option"]["value"] == "shared"
    status, answer = await server.submit("U4", form, {})
    assert answer["response_action"] == "errors" and "it has 607" in answer["errors"]["text"]
    status, answer = await server.submit("U4", form, {"text": "   "})
    assert answer["errors"]["text"] == "Please fill this in."
    assert await stored(server, "U4") == []

    for _ in range(2):  # the same form submitted twice
        status, answer = await server.submit("U4", form, {"text": "Listen first"})
        assert answer in (None, {"response_action": "clear"})
    await slack.wait_for(lambda: any("already your One Thing" in texts(e) for e in slack.ephemerals))
    assert [row.text for row in await stored(server, "U4")] == ["Listen first"]

    await press(server, "U4", "onething.check", "not-a-value")
    await slack.wait_for(lambda: any("no longer stored" in texts(e) for e in slack.ephemerals))


async def test_shared_ones_in_the_digest_unshared_ones_nowhere_and_dutch(server):
    slack = server.slack
    reply = await one_thing(server, "U3", "Say no to the status meeting #share")
    assert "Shared in your team's weekly digest" in texts(reply)
    reply = await one_thing(server, "U5", "Eerst vragen, dan aannemen")
    assert "Je Eén Ding" in texts(reply) and "Alleen jij ziet het" in texts(reply)
    shared = await one_thing(server, "U5", "deel")
    assert "staat nu in het weekoverzicht" in texts(shared)
    private = await one_thing(server, "U5", "privé")
    assert "weer privé" in texts(private)

    # Their team: the people asked in a round of the channel (seeded: this is a test of the digest's lines).
    now = datetime.now(UTC)
    db = Database(server.database_url)
    try:
        async with db.transaction() as conn:
            world = await DigestWorld(conn, now=now).setup()
            team = [await world.member(u, n) for u, n in (("U3", "Chris"), ("U5", "Eva"), ("U1", "Ann"))]
            await world.round("This week's round", created=now - timedelta(hours=1), deadline=now + timedelta(days=20),
                              asked=team)
    finally:
        await db.dispose()
    _, when = next_digest(datetime.now(UTC), TZ, 4, time(15))
    await server.run_due(when - timedelta(hours=1))  # the scheduler queues this week's digest
    await server.run_due(when + timedelta(seconds=30))
    [digest] = await slack.wait_for(lambda: [m for m in slack.messages("C1") if "Weekly digest" in texts(m)])
    shown = texts(digest)
    assert "One Things the team shares" in shown and "Say no to the status meeting" in shown
    assert "Eerst vragen" not in shown  # Eva's is private
    assert "Write decisions down" not in shown  # Ann's was never shared
    assert "Chris" not in shown


async def test_the_check_a_week_later_waits_for_focus_then_takes_the_answer(server):
    slack = server.slack
    await one_thing(server, "U2", "Decide in writing")
    [row] = await stored(server, "U2")
    due = rules.check_due(aware(row.recorded_at), TZ)
    assert due >= aware(row.recorded_at) + timedelta(days=7) - timedelta(hours=1)
    await server.run_due(due - timedelta(seconds=5))
    assert check_dms(server, "U2") == []

    # At the check's moment U2 is in focus time: the DM waits for the session's end.
    moment = working_morning_after(due)
    async with server.db.transaction() as conn:
        await conn.execute(sa.text(
            "INSERT INTO focus_sessions (workspace_id, member_id, category, topic, started_at, ends_at, status_set) "
            "SELECT workspace_id, id, 'proactive', '', :start, :end, false FROM members WHERE external_id = 'U2'"),
            {"start": (moment - timedelta(minutes=5)).replace(tzinfo=None),
             "end": (moment + timedelta(minutes=40)).replace(tzinfo=None)})
    await server.run_due(moment)
    assert check_dms(server, "U2") == []
    await server.run_due(moment + timedelta(minutes=40, seconds=1))
    [dm] = check_dms(server, "U2")
    assert "Decide in writing" in texts(dm)
    yes, partly, dropped = buttons(dm, "onething.check")
    assert (yes["text"]["text"], partly["text"]["text"], dropped["text"]["text"]) == ("Yes", "Partly", "Dropped")
    await server.run_due(moment + timedelta(hours=2))
    assert len(check_dms(server, "U2")) == 1  # once

    await press(server, "U2", "onething.check", partly["value"], channel="DU2")
    form = await opened_view(server, "U2", "onething.check_form")
    assert form["blocks"][-2]["element"]["initial_option"]["value"] == "partly"
    status, answer = await server.submit("U2", form, {"note": "n" * 501})
    assert answer["response_action"] == "errors" and "under 500 characters" in answer["errors"]["note"]
    status, answer = await server.submit("U2", form, {"note": "Mornings yes, afternoons no"})
    assert answer in (None, {"response_action": "clear"})
    await slack.wait_for(lambda: any("Thanks, noted: Partly" in texts(e) for e in slack.ephemerals))
    [row] = await stored(server, "U2")
    assert (row.check_answer, row.check_note) == ("partly", "Mornings yes, afternoons no")

    # A newer One Thing makes the old check's buttons stale: a sentence, nothing stored.
    await one_thing(server, "U2", "Fewer status meetings")
    await press(server, "U2", "onething.check", yes["value"], channel="DU2")
    await slack.wait_for(lambda: any("newer One Thing" in texts(e) for e in slack.ephemerals))
    assert (await stored(server, "U2"))[0].check_answer == "partly"
