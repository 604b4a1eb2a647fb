"""The Driver's Seat on Slack, end to end: the real `unmeet serve` and `unmeet jobs run-due --now …` over
real HTTP, requests signed like Slack's, the loopback fake Slack Web API (which enforces Block Kit
limits and single-use trigger ids); SQLite and PostgreSQL.

The run starts today (the server's clock is the real one), so its days are read back from the database
and time is moved to their mornings and evenings; a skipped first day makes every run cross a weekend."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.domain import drivers_seat as rules
from core.domain.digest import next_digest
from core.domain.rounds import zone
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
        slack.add_user("U1", "ann", "Ann")
        slack.add_user("U2", "cor", "Cor", locale="nl-NL")
        slack.add_user("U3", "bea", "Bea")
        slack.add_user("U9", "helper", "Helper", is_bot=True)
        slack.add_channel("C1", "team", members=["U1", "U2", "U3"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def seat(server, user: str, text: str) -> dict:
    """Type `/drivers-seat text`; the ephemeral reply."""
    slack = server.slack
    before = len(slack.ephemerals)
    status, _ = await server.post(slack_requests.slash_command("/drivers-seat", text, user_id=user, channel_id="C1",
                                                               trigger_id=slack.new_trigger_id(user)))
    assert status == 200
    await slack.wait_for(lambda: len(slack.ephemerals) > before)
    return slack.ephemerals[-1]


async def press(server, user: str, action: str, value: str = "", channel: str | None = None) -> None:
    status, _ = await server.post(slack_requests.block_action(action, value, user_id=user,
                                                              channel_id=channel or f"D{user}",
                                                              trigger_id=server.slack.new_trigger_id(user)))
    assert status == 200


async def pressed_notice(server, user: str, action: str, value: str) -> dict:
    before = len(server.slack.ephemerals)
    await press(server, user, action, value)
    await server.slack.wait_for(lambda: len(server.slack.ephemerals) > before)
    return server.slack.ephemerals[-1]


async def pressed_view(server, user: str, action: str, value: str, callback_id: str) -> dict:
    opened = len(server.slack.calls_to("views.open"))
    await press(server, user, action, value)
    await server.slack.wait_for(lambda: len(server.slack.calls_to("views.open")) > opened)
    view = server.slack.open_views(user)[-1]
    assert view["callback_id"] == callback_id
    return view


def button(message: dict, action_id: str) -> dict:
    [found] = [e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]
               if e.get("action_id") == action_id]
    return found


def dms_with(server, user: str, words: str) -> list[dict]:
    return [m for m in server.slack.dms(user) if words in texts(m)]


def mornings(server, user):
    return dms_with(server, user, "Which three tasks") + dms_with(server, user, "Met welke drie taken")


def evenings(server, user):
    return dms_with(server, user, "How did today go?")


async def run_of(server, user: str):
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.text(
            "SELECT r.id, r.first_day, r.days, r.end_reason FROM seat_runs r JOIN members m ON m.id = r.member_id "
            "WHERE m.external_id = :u ORDER BY r.id DESC"), {"u": user})).first()


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def plan(server, user: str, morning: dict, tasks: tuple[str, str, str]) -> None:
    value = button(morning, "seat.plan")["value"]
    form = await pressed_view(server, user, "seat.plan", value, "seat.tasks_form")
    status, answer = await server.submit(user, form, {"task1": tasks[0], "task2": tasks[1], "task3": tasks[2]})
    assert status == 200 and answer in (None, {"response_action": "clear"}), answer


async def rate(server, user: str, evening: dict, colours: tuple[str, str, str], why: str = "") -> dict:
    value = button(evening, "seat.rate")["value"]
    form = await pressed_view(server, user, "seat.rate", value, "seat.ratings_form")
    before = len(server.slack.ephemerals)
    status, answer = await server.submit(user, form, {"rating1": colours[0], "rating2": colours[1],
                                                      "rating3": colours[2], "why2": why})
    assert status == 200 and answer in (None, {"response_action": "clear"}), answer
    await server.slack.wait_for(lambda: len(server.slack.ephemerals) > before)
    return form


async def in_focus(server, user: str, start: datetime, end: datetime) -> None:
    async with server.db.transaction() as conn:
        await conn.execute(sa.text(
            "INSERT INTO focus_sessions (workspace_id, member_id, category, topic, started_at, ends_at, status_set) "
            "SELECT workspace_id, id, 'proactive', '', :start, :end, false FROM members WHERE external_id = :u"),
            {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None), "u": user})


COLOURS = [("green", "red", "green"), ("green", "orange", "red"), ("orange", "orange", "green"),
           ("green", "red", "red"), ("red", "green", "green")]


async def test_a_five_day_run_across_a_weekend_and_a_focus_session(server):
    reply = await seat(server, "U1", "start")
    assert "5 working days" in texts(reply)
    assert "already have a run" in texts(await seat(server, "U1", "start 3"))
    run = await run_of(server, "U1")
    first = as_date(run.first_day)
    status, _ = await server.post(slack_requests.event({"type": "app_home_opened", "user": "U1", "tab": "home"},
                                                       event_id="EvSeatHomeU1"))
    assert status == 200
    home = await server.slack.wait_for(lambda: server.slack.home_views.get("U1"))
    assert "Driver's Seat" in texts(home) and "0 of 5 days rated" in texts(home)

    # The first day: its morning DM, and "I'm out today" — not counted, no evening DM.
    await server.run_due(rules.morning(first, TZ) + timedelta(seconds=1))
    [morning] = await server.slack.wait_for(lambda: mornings(server, "U1"))
    notice = await pressed_notice(server, "U1", "seat.skip", button(morning, "seat.skip")["value"])
    assert "is not counted" in texts(notice)
    await server.run_due(rules.evening(first, TZ) + timedelta(seconds=1))
    assert evenings(server, "U1") == []
    days = rules.counted_days(first, 5, {first})
    weekend = [d for d in (first + timedelta(n) for n in range((days[-1] - first).days)) if d.weekday() >= 5]
    assert weekend  # the run crosses one

    for index, day in enumerate(days):
        await server.run_due(rules.morning(day, TZ) + timedelta(seconds=1))
        dms = await server.slack.wait_for(lambda: mornings(server, "U1")[index + 1:])
        await plan(server, "U1", dms[-1], (f"Write the plan {index}", f"Answer the team {index}", "Expenses"))
        evening = rules.evening(day, TZ)
        if index == 2:  # in focus time when the evening comes: the DM waits for the session's end
            await in_focus(server, "U1", evening - timedelta(minutes=10), evening + timedelta(minutes=30))
            await server.run_due(evening + timedelta(seconds=1))
            assert len(evenings(server, "U1")) == index
            await server.run_due(evening + timedelta(minutes=30, seconds=1))
        else:
            await server.run_due(evening + timedelta(seconds=1))
        dms = await server.slack.wait_for(lambda: evenings(server, "U1")[index:])
        assert f"Write the plan {index}" in texts(dms[-1]) and "Expenses" in texts(dms[-1])
        form = await rate(server, "U1", dms[-1], COLOURS[index], why="too many pings")
        assert f"Answer the team {index}" in texts(form)  # the morning's tasks, in the evening's form
        await server.run_due(evening + timedelta(hours=2))  # nothing more that day
    for day in weekend:  # nothing at the weekend
        await server.run_due(datetime.combine(day, time(12), tzinfo=zone(TZ)).astimezone(UTC))
    assert len(mornings(server, "U1")) == 6 and len(evenings(server, "U1")) == 5

    await server.run_due(rules.week_card_due(first, 5, {first}, TZ) + timedelta(seconds=1))
    [week] = await server.slack.wait_for(lambda: dms_with(server, "U1", "Your Driver's Seat week"))
    shown = texts(week)
    assert "proactive 60% green · reactive 20% green · stuff 60% green" in shown
    assert "What made the green days green?" in shown and shown.count("too many pings") == 5
    assert (await run_of(server, "U1")).end_reason == "finished"
    assert "Your last run, ended." in texts(await seat(server, "U1", ""))
    await server.slack.wait_for(lambda: "Start a week" in texts(server.slack.home_views.get("U1") or {}))


async def test_the_coach_feedback_and_unshare_in_dutch(server):
    slack = server.slack
    assert "no Driver's Seat run" in texts(await seat(server, "U3", "share <@U2|cor>"))
    await seat(server, "U3", "start 2")
    assert "bot" in texts(await seat(server, "U3", "share <@U9|helper>"))
    assert "someone else" in texts(await seat(server, "U3", "share <@U3|bea>"))
    assert "I don't know who" in texts(await seat(server, "U3", "share @cor"))
    assert "shared with Cor" in texts(await seat(server, "U3", "share <@U2|cor>"))
    await slack.wait_for(lambda: dms_with(server, "U2", "deelt de Driver's Seat-ronde met jou"))
    run = await run_of(server, "U3")
    first = as_date(run.first_day)
    await server.run_due(rules.morning(first, TZ) + timedelta(seconds=1))
    [morning] = await slack.wait_for(lambda: mornings(server, "U3"))
    await plan(server, "U3", morning, ("Plan the offsite", "Reply to Sam", "Book travel"))
    await server.run_due(rules.evening(first, TZ) + timedelta(seconds=1))
    [evening] = await slack.wait_for(lambda: evenings(server, "U3"))
    await rate(server, "U3", evening, ("green", "orange", "red"))

    [card] = await slack.wait_for(lambda: dms_with(server, "U2", "De dag van Bea"))
    assert "Plan the offsite" in texts(card) and "proactief" in texts(card)
    give = button(card, "seat.feedback")
    form = await pressed_view(server, "U2", "seat.feedback", give["value"], "seat.feedback_form")
    assert "Feedback laten voorstellen" not in texts(form)  # no LLM configured
    status, answer = await server.submit("U2", form, {"feedback": "   "})
    assert answer["response_action"] == "errors" and answer["errors"]["feedback"] == "Vul dit in, alsjeblieft."
    status, answer = await server.submit("U2", form, {"feedback": "Mooi dat je de offsite als eerste nam."})
    assert answer in (None, {"response_action": "clear"})
    [feedback] = await slack.wait_for(lambda: dms_with(server, "U3", "Cor has feedback on your Driver's Seat"))
    assert "Mooi dat je de offsite als eerste nam." in texts(feedback)

    assert "no longer shared" in texts(await seat(server, "U3", "unshare"))
    stale = await pressed_notice(server, "U2", "seat.feedback", give["value"])
    assert "niet meer met jou gedeeld" in texts(stale)
    await server.run_due(rules.morning(rules.counted_days(first, 2)[1], TZ) + timedelta(seconds=1))
    await server.run_due(rules.week_card_due(first, 2, set(), TZ) + timedelta(seconds=1))
    await slack.wait_for(lambda: dms_with(server, "U3", "Your Driver's Seat week"))
    assert dms_with(server, "U2", "Driver's Seat-week van Bea") == []
    assert len(dms_with(server, "U2", "De dag van Bea")) == 1


async def test_unknown_words_and_stale_buttons_get_a_sentence(server):
    assert "1 to 10 working days" in texts(await seat(server, "U1", "start 12"))
    assert "Use `/drivers-seat start" in texts(await seat(server, "U1", "dance"))
    notice = await pressed_notice(server, "U1", "seat.plan", "nonsense")
    assert "no longer part of a Driver's Seat run" in texts(notice)


async def test_the_digest_shows_the_team_level_only(server):
    """Ann's five-day run in the channel's weekly digest: how many ran it, the green share per kind, no
    names and no tasks. (Her team: the people asked in a round of the channel, seeded here.)"""
    first = as_date((await run_of(server, "U1")).first_day)
    days = rules.counted_days(first, 5, {first})
    week, when = next_digest(rules.morning(days[-1], TZ), TZ, 4, time(15))
    now = datetime.now(UTC)
    async with server.db.transaction() as conn:
        world = await DigestWorld(conn, now=now).setup()
        await world.round("This week's round", created=now - timedelta(hours=1), deadline=when + timedelta(days=7),
                          asked=[await world.member("U1", "Ann")])
    shares = rules.green_share([(kind, colour) for day, colours in zip(days, COLOURS)
                                if week.first_day <= day < week.first_day + timedelta(days=7)
                                for kind, colour in zip(("proactive", "reactive", "stuff"), colours)])
    await server.run_due(when - timedelta(hours=1))  # the scheduler queues the week's digest
    await server.run_due(when + timedelta(seconds=30))
    [digest] = await server.slack.wait_for(lambda: [m for m in server.slack.messages("C1")
                                                    if "ran the Driver's Seat" in texts(m)])
    shown = texts(digest)
    assert "1 person ran the Driver's Seat this week." in shown  # Bea is not in this channel's team
    assert " · ".join(f"{kind} {rules.percent(share)}% green" for kind, share in shares.items()
                      if share is not None) in shown
    assert "Ann" not in shown and "Write the plan" not in shown and "too many pings" not in shown
