"""Programme mode on Slack, end to end and in this order (one programme's three months): the real
`unmeet serve` and `unmeet jobs run-due --now …` over real HTTP, requests signed like Slack's, the
loopback fake Slack Web API; SQLite and PostgreSQL. Ann coaches; Bart and Chris (Dutch) are the cohort.

The server keeps real time, so the programme is one already under way (session 1 was a week ago):
what it opened is out now, the One Thing typed now counts, and `run-due` moves time forward to the
reminder, the briefing and session 2. The states that need a later "now" on the server (late) are
proven in test_programme_services.py with a fixed clock."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.domain import programmes as rules
from core.domain.rounds import next_working_moment, reminder_time, zone
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
        slack.add_user("U2", "bart", "Bart")
        slack.add_user("U3", "chris", "Chris", locale="nl-BE")
        slack.add_user("UB", "helper-bot", "Helper", is_bot=True)
        slack.add_channel("C1", "leads", members=["U1", "U2", "U3", "UB"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def command(server, user: str, text: str, channel: str = "C1") -> dict | None:
    """Type `/programme text`; the ephemeral reply (None when a modal opened instead)."""
    slack = server.slack
    before, views_before = len(slack.ephemerals), len(slack.calls_to("views.open"))
    status, _ = await server.post(slack_requests.slash_command("/programme", text, user_id=user, channel_id=channel,
                                                               trigger_id=slack.new_trigger_id(user)))
    assert status == 200
    await slack.wait_for(lambda: len(slack.ephemerals) > before or len(slack.calls_to("views.open")) > views_before)
    return slack.ephemerals[-1] if len(slack.ephemerals) > before else None


async def setup_view(server, user: str) -> dict:
    views = await server.slack.wait_for(lambda: [v for v in server.slack.open_views(user)
                                                 if v["callback_id"] == "programme.setup"])
    return views[-1]


def initial(view: dict) -> dict[str, object]:
    out = {}
    for block in view["blocks"]:
        if block.get("type") == "input":
            element = block["element"]
            out[block["block_id"]] = (element.get("initial_value") or element.get("initial_date")
                                      or element.get("initial_conversation"))
    return out


def programme_dms(server, user: str) -> list[dict]:
    words = ("Your assignment for", "Je opdracht voor", "Reminder from", "Herinnering van")
    return [m for m in server.slack.dms(user) if any(w in texts(m) for w in words)]


def session_start(day: str) -> datetime:
    return rules.session_start(date.fromisoformat(day), TZ).astimezone(UTC)


async def stored_programmes(server) -> list:
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.text("SELECT id, name, copied_from FROM programmes ORDER BY id"))).all()


def marks(shown: str, who: str) -> str:
    """A participant's row of the coach's overview: one mark per assignment."""
    line = next(line for line in shown.splitlines() if who in line)
    return " ".join(line.split()[1:])


def home_of(slack, user: str) -> dict | None:
    views = [c.params["view"] for c in slack.calls_to("views.publish") if c.ok and c.params.get("user_id") == user]
    return views[-1] if views else None


class Trajectory:
    sessions: list[datetime] = []



def session_days(today: date) -> list[date]:
    """A programme under way: session 1 was last week, sessions 2 and 3 come on working days (a session
    on a Saturday, when the tests run on one, would hold what opens after it until Monday)."""
    def workday(day: date) -> date:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day
    return [today - timedelta(days=7), workday(today + timedelta(days=14)), workday(today + timedelta(days=49))]

async def test_a_coach_sets_up_a_programme_and_bad_input_keeps_what_was_typed(server):
    assert await command(server, "U1", "new") is None  # the modal opened
    view = await setup_view(server, "U1")
    values = initial(view)
    assert values["name"] == "Value creation trajectory" and values["channel"] == "C1"
    first = date.fromisoformat(values["session1"])
    assert first.weekday() == 0 and first > datetime.now(zone(TZ)).date()  # next week's Monday
    assert values["session2"] == (first + timedelta(weeks=3)).isoformat()
    assert values["session3"] == (first + timedelta(weeks=8)).isoformat()
    assert [values[f"assignment{i}"] for i in range(5)] == [
        "Choose your One Thing", "Do the Driver's Seat week",
        "Plan your focus time (goal: 4 h a week) and tell your colleagues why",
        "Share an insight with your team as a round, not a meeting",
        "Hold the team meeting and publish an agreement; bring it to session 3"]

    typed = {"name": "Leads " + "x" * 200, "session2": values["session1"], "assignment1": "My own wording"}
    status, answer = await server.submit("U1", view, typed)
    assert status == 200 and answer["response_action"] == "errors"
    assert "under 150 characters (it has 206)" in answer["errors"]["name"]
    assert answer["errors"]["session2"] == "Each session must come after the one before."
    assert await stored_programmes(server) == []

    today = datetime.now(zone(TZ)).date()
    dates = {f"session{n}": d.isoformat() for n, d in enumerate(session_days(today), 1)}
    status, answer = await server.submit("U1", view, {"name": "Leads autumn", "assignment1": "My own wording",
                                                      **dates})
    assert answer in (None, {"response_action": "clear"})
    await server.slack.wait_for(lambda: any("“Leads autumn” is set up" in texts(e) for e in server.slack.ephemerals))
    [programme] = await stored_programmes(server)
    assert programme.name == "Leads autumn"
    Trajectory.sessions = [session_start(dates[f"session{n}"]) for n in (1, 2, 3)]

    for _ in range(50):  # the cohort is read from the channel by a job; until then the overview says so
        shown = texts(await command(server, "U1", "status"))
        if "being read from the channel" not in shown:
            break
        await asyncio.sleep(0.1)
    assert "Leads autumn" in shown and "Bart" in shown and "Chris" in shown
    assert "Ann" not in shown and "Helper" not in shown  # the coach and bots are not in the cohort
    assert "My own wording" in shown


async def test_participants_get_what_has_opened_once_each_in_their_language(server):
    working = next_working_moment(datetime.now(UTC) + timedelta(seconds=1), zone(TZ)) + timedelta(minutes=1)
    await server.run_due(working)  # the server sends them itself in working hours; run-due when it is night
    bart = await server.slack.wait_for(lambda: len(programme_dms(server, "U2")) == 3 and programme_dms(server, "U2"))
    chris = await server.slack.wait_for(lambda: len(programme_dms(server, "U3")) == 3 and programme_dms(server, "U3"))
    assert any("Choose your One Thing" in texts(m) for m in bart) and "Leads autumn" in texts(bart[0])
    assert "Your assignment for" in texts(bart[0])
    assert any("My own wording" in texts(m) for m in bart)
    assert any("Je opdracht voor" in texts(m) and "Kies je One Thing" in texts(m) for m in chris)  # the template's
    assert any("My own wording" in texts(m) for m in chris)  # what the coach wrote, as written
    starts = {e["action_id"] for m in bart for b in m.get("blocks", []) if b.get("type") == "actions"
              for e in b["elements"]}
    assert starts == {"onething.record", "seat.start", "focus.plan"}
    await server.run_due(working + timedelta(hours=2))
    assert len(programme_dms(server, "U2")) == 3  # never twice; what opens after session 2 waits for it
    assert programme_dms(server, "U1") == []  # the coach is not a participant

    # A participant sees only their own assignments.
    mine = texts(await command(server, "U2", "status"))
    assert "Choose your One Thing" in mine and "Chris" not in mine
    refused = texts(await command(server, "U2", "export"))
    assert "Only the programme's coach" in refused


async def test_completion_comes_from_the_feature_and_the_reminder_only_for_what_is_not_done(server):
    slack = server.slack
    for user, event in (("U1", "EvHomeCoach"), ("U2", "EvHomeBart")):
        status, _ = await server.post(slack_requests.event({"type": "app_home_opened", "user": user, "tab": "home"},
                                                           event_id=event))
        assert status == 200
    await slack.wait_for(lambda: home_of(slack, "U1") and home_of(slack, "U2"))
    assert "1✅" not in texts(home_of(slack, "U1"))
    status, _ = await server.post(slack_requests.slash_command("/one-thing", "Ask before assuming", user_id="U2",
                                                               channel_id="C1"))
    assert status == 200
    await slack.wait_for(lambda: any("Ask before assuming" in texts(e) for e in slack.ephemerals))
    shown = texts(await command(server, "U1", "status"))
    assert marks(shown, "Bart") == "1✅ 2⏳ 3⏳ 4· 5·" and marks(shown, "Chris") == "1⏳ 2⏳ 3⏳ 4· 5·"
    # The Homes opened before it are published again: the coach's overview, Bart's own assignments.
    homes = await slack.wait_for(lambda: "1✅" in texts(home_of(slack, "U1")) and "✅ " in texts(home_of(slack, "U2"))
                                 and {u: texts(home_of(slack, u)) for u in ("U1", "U2")})
    assert marks(homes["U1"], "Bart") == "1✅ 2⏳ 3⏳ 4· 5·" and "Programme status" in homes["U1"]
    assert "Leads autumn" in homes["U2"] and "Chris" not in homes["U2"]

    second = Trajectory.sessions[1]
    remind_at = reminder_time(second, TZ, second - timedelta(days=5))  # the Friday before, 16:00
    await server.run_due(remind_at - timedelta(minutes=1))
    assert not any("Reminder from" in texts(m) for m in programme_dms(server, "U2"))
    await server.run_due(remind_at + timedelta(minutes=1))
    bart = [m for m in programme_dms(server, "U2") if "Reminder from" in texts(m)]
    chris = [m for m in programme_dms(server, "U3") if "Herinnering van" in texts(m)]
    assert len(bart) == 2 and not any("One Thing" in texts(m) for m in bart)  # his One Thing is done
    assert len(chris) == 3

    # The coach's briefing a day before session 2 (in working hours: the same Friday here).
    briefing = await slack.wait_for(lambda: [m for m in slack.dms("U1") if "Briefing for session 2" in texts(m)])
    assert "Choose your One Thing: 1 of 2 done (0 late)" in texts(briefing[0])

    # After the session: no reminder, and what opens after session 2 arrives.
    await server.run_due(second + timedelta(hours=1))
    assert len([m for m in programme_dms(server, "U2") if "Reminder from" in texts(m)]) == 2
    assert len(programme_dms(server, "U2")) == 3 + 2 + 2


async def test_the_coach_exports_the_status_as_csv_and_copies_the_programme(server):
    slack = server.slack
    await command(server, "U1", "export")
    upload = await slack.wait_for(lambda: [f for f in slack.files.values() if f.filename.endswith(".csv")])
    rows = list(csv.reader(io.StringIO(upload[0].content.decode())))
    assert rows[0] == ["participant", "assignment", "status"]
    assert ["Bart", "Choose your One Thing", "done"] in rows and ["Chris", "Choose your One Thing", "open"] in rows
    assert len(rows) == 1 + 2 * 5

    assert await command(server, "U1", "copy") is None
    view = await setup_view(server, "U1")
    values = initial(view)
    assert values["name"] == "Leads autumn" and values["assignment1"] == "My own wording"
    status, answer = await server.submit("U1", view, {"name": "Leads spring"})
    assert answer in (None, {"response_action": "clear"})
    await slack.wait_for(lambda: any("“Leads spring” is set up" in texts(e) for e in slack.ephemerals))
    first, copy = await stored_programmes(server)
    assert copy.copied_from == first.id
