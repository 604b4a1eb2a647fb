"""Team agreements on Slack, end to end: the real `unmeet serve` and `jobs run-due` over HTTP, signed
requests, the loopback fakes of the Slack Web API and of an OpenAI-compatible endpoint."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.domain.rounds import deadline_instant
from core.persistence.tables_agreements import agreement_versions
from tests.fakes import slack_requests
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving, submission
from tests.slack_app.test_round import answer, answer_button, share, texts, top_level

pytestmark = pytest.mark.asyncio(loop_scope="module")

TZ = ZoneInfo("Europe/Brussels")
TODAY = datetime.now(TZ).date()


def next_weekday(after: date, weekday: int) -> date:
    day = after + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


DUE = next_weekday(TODAY + timedelta(days=2), 2)  # a Wednesday at least three days away


def team_posts(server) -> list[dict]:
    """The channel's top-level messages but the weekly digest and its chart: the tests move time past a
    Friday 15:00, and when the channel was active that week its digest is posted, as it should be."""
    def digest(m: dict) -> bool:
        return (m.get("text", "").startswith("Weekly digest")
                or any(f.get("name", "").startswith("digest-") for f in m.get("files", ())))
    return [m for m in top_level(server, "CA") if not digest(m)]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ).astimezone(timezone.utc)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeOpenAI() as llm, FakeSlackApi(BOT_TOKEN) as slack:
        slack.add_user("U1", "lotte", "Lotte Peeters", locale="en-US")
        for uid, name in (("U2", "Ann Smith"), ("U3", "Bart Jansens")):
            slack.add_user(uid, name.split()[0].lower(), name)
        slack.add_user("U9", "nora", "Nora Outsider")
        slack.add_channel("CA", "team-a", members=["U1", "U2", "U3", "U9"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET,
                           OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="", UNMEET_LLM_MODEL="fake-model",
                           UNMEET_LLM_TIMEOUT_SECONDS="5") as running:
            running.llm = llm
            yield running


async def command(server, user: str, text: str = "", channel: str = "CA") -> None:
    status, _ = await server.post(slack_requests.slash_command("/agreements", text, user_id=user, channel_id=channel,
                                                               trigger_id=server.slack.new_trigger_id(user)))
    assert status == 200


async def open_edit(server, user: str = "U1") -> dict:
    server.slack.close_views(user)
    await command(server, user, "edit")
    [view] = await server.slack.wait_for(lambda: server.slack.open_views(user))
    assert view["callback_id"] == "agreements.edit_form"
    return view


def option(view: dict, block_id: str, label: str) -> str:
    block = next(b for b in view["blocks"] if b.get("block_id") == block_id)
    return next(o["value"] for o in block["element"]["options"] if o["text"]["text"] == label)


async def submit(server, view: dict, values: dict, user: str = "U1") -> dict | None:
    status, text = await server.post(slack_requests.view_submission(submission(view, values), user_id=user))
    assert status == 200
    return json.loads(text) if text.strip() else None


def ephemerals(server, user: str) -> list[str]:
    return [e["text"] + json.dumps(e.get("blocks") or []) for e in server.slack.ephemerals if e["user"] == user]


async def test_questionnaire_to_draft_to_published_agreement(server):
    slack = server.slack
    await command(server, "U1", "prepare")
    post = await slack.wait_for(lambda: [m for m in team_posts(server) if answer_button(m)], timeout=15)
    round_id = answer_button(post[0])["value"]
    assert "Availability" in texts(post[0]) and "Meetings" in texts(post[0])
    await slack.wait_for(lambda: slack.dms("U2") and slack.dms("U3"))
    await answer(server, "U2", round_id, "DU2", ("Mornings are my focus time. 9 to 5.", "Chat for quick things.",
                                                 "Only to decide together."))
    await answer(server, "U3", round_id, "DU3", ("Answer within a day.", "Urgent means a phone call.",
                                                 "A day without meetings would help."))
    deadline = deadline_instant(TODAY + timedelta(days=7), "Europe/Brussels")
    await server.run_due(deadline + timedelta(minutes=1))
    await server.run_due(deadline + timedelta(minutes=5))
    [grouped] = await slack.wait_for(lambda: [m for m in slack.dms("U1") if "Answers for your team agreement"
                                              in texts(m)])
    shown = texts(grouped)
    assert "Mornings are my focus time" in shown and "Urgent means a phone call" in shown and "Ann Smith" in shown
    assert "Draft agreement" in shown and "(A1)" in shown and "(A2)" in shown
    assert "Invented line" not in shown  # a draft line citing no real answer never reaches the lead
    [call] = server.llm.prompts("draft_agreement/v1")
    assert "Ann Smith" not in call.text and "Bart" not in call.text  # names never go to the model

    # The form opens on the draft; mistakes come back with a sentence each and nothing lost.
    view = await open_edit(server)
    initial = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"] if b["type"] == "input"}
    assert initial["principles"] == "We respect each other's focus time."
    assert "Mornings are my focus time" in initial["rules"]
    ann = option(view, "a1_owner", "Ann Smith")
    errors = await submit(server, view, {"principles": "", "rules": "Chat for quick things.",
                                         "a1_text": "Write the channel guide", "a1_owner": "none",
                                         "a2_text": "Book the offsite", "a2_owner": ann,
                                         "a2_due": (TODAY - timedelta(days=1)).isoformat()})
    assert errors["response_action"] == "errors"
    assert "principle" in errors["errors"]["principles"] and "owner" in errors["errors"]["a1_owner"]
    assert "due date" in errors["errors"]["a1_due"] and "from today on" in errors["errors"]["a2_due"]
    assert team_posts(server)[1:] == []

    weekday = str(datetime.now(TZ).weekday())
    values = {"principles": "We respect each other's focus time.\nWriting first.",
              "rules": "Chat for quick things.", "work_start": "09:00", "work_end": "15:00",
              "response_hours": "24", "no_meeting_day": weekday, "agenda": "yes",
              "a1_text": "Write the channel guide", "a1_owner": ann, "a1_due": DUE.isoformat(),
              "a2_text": "", "a3_text": ""}
    assert await submit(server, view, values) in (None, {"response_action": "clear"})
    [message] = await slack.wait_for(lambda: [m for m in team_posts(server) if "version 1" in texts(m)])
    shown = texts(message)
    assert "Writing first." in shown and "Write the channel guide — Ann Smith" in shown and "(open)" in shown
    assert "Our working hours are 09:00–15:00" in shown and "A meeting needs an agenda." in shown
    await slack.wait_for(lambda: slack.pins == [("CA", message["ts"])])

    # The same form submitted again: refused with a sentence, the values kept; no second version.
    again = await submit(server, view, values)
    assert again["response_action"] == "errors" and "already published" in again["errors"]["principles"]

    # Someone else can't change the published agreement.
    await command(server, "U9", "edit")
    await slack.wait_for(lambda: any("Only the lead" in e for e in ephemerals(server, "U9")))
    assert slack.open_views("U9") == []

    # Republishing edits the same message, with the next version; every version is kept.
    view = await open_edit(server)
    assert await submit(server, view, {"rules": "Chat for quick things.\nThreads, always."}) in (
        None, {"response_action": "clear"})
    await slack.wait_for(lambda: "version 2" in texts(team_posts(server)[1]))
    assert len(team_posts(server)) == 2 and "Threads, always." in texts(team_posts(server)[1])
    assert any(c.params.get("ts") == message["ts"] for c in slack.calls_to("chat.update"))
    assert slack.pins == [("CA", message["ts"])]
    async with server.db.transaction() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(agreement_versions))).scalar_one() == 2

    # /agreements shows the current one.
    await command(server, "U3")
    await slack.wait_for(lambda: any("version 2" in e for e in ephemerals(server, "U3")))

    # The digest carries the agreement's version and its open actions.
    status, _ = await server.post(slack_requests.slash_command("/unmeet", "digest", user_id="U3", channel_id="CA",
                                                               trigger_id=slack.new_trigger_id("U3")))
    assert status == 200
    digest = await slack.wait_for(lambda: [e for e in ephemerals(server, "U3") if "Weekly digest" in e])
    assert "Version 2" in digest[-1] and "1 open action" in digest[-1] and "Write the channel guide" in digest[-1]


async def test_the_action_owner_gets_two_dms_once_each_and_the_message_shows_done(server):
    slack = server.slack
    before = next_weekday(DUE - timedelta(days=3), 1)  # the Tuesday before the Wednesday
    start = len(slack.dms("U2"))

    def action_dms():
        return [m for m in slack.dms("U2")[start:] if "Write the channel guide" in texts(m)]

    for _ in range(2):
        await server.run_due(local(before, 9, 5))
    assert len(action_dms()) == 1 and "due Wednesday" in texts(action_dms()[0])
    for _ in range(2):
        await server.run_due(local(DUE, 9, 5))
    assert len(action_dms()) == 2 and "due today" in texts(action_dms()[1])
    done = next(e for b in action_dms()[1]["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["value"].endswith("|done"))
    status, _ = await server.post(slack_requests.block_action("agreements.action_state", done["value"], user_id="U2",
                                                              channel_id="DU2"))
    assert status == 200
    await slack.wait_for(lambda: "(done)" in texts(team_posts(server)[1]))


async def test_quiet_hours_hold_back_a_round_reminder(server):
    slack = server.slack
    friday = next_weekday(TODAY + timedelta(days=2), 4)
    round_id = await share(server, "CA", title="Quiet hours", deadline=friday.isoformat())
    await slack.wait_for(lambda: any(answer_button(m) and answer_button(m)["value"] == round_id
                                     for m in slack.dms("U3")))
    dms = len(slack.dms("U3"))
    await server.run_due(local(friday - timedelta(days=1), 16, 1))  # the reminder's time: after the team's 15:00
    assert len(slack.dms("U3")) == dms
    await server.run_due(local(friday, 9, 1))  # the team's next working moment
    assert len(slack.dms("U3")) == dms + 1


async def test_a_no_meeting_day_changes_the_meeting_checks_answer(server):
    slack = server.slack
    slack.close_views("U2")
    status, _ = await server.post(slack_requests.slash_command(
        "/meeting-check", "", user_id="U2", channel_id="CA", trigger_id=slack.new_trigger_id("U2")))
    [view] = await slack.wait_for(lambda: slack.open_views("U2"))
    dms = len(slack.dms("U2"))
    status, text = await server.post(slack_requests.view_submission(submission(view, {
        "purpose": "decide", "agenda": "Pick the new tool", "people": "3", "minutes": "30", "frequency": "once",
        "decider_known": "yes", "readable": "no"}), user_id="U2"))
    assert status == 200
    verdict = (await slack.wait_for(lambda: slack.dms("U2")[dms:]))[0]
    shown = texts(verdict)
    assert "no-meeting day for this team" in shown and "Verdict: go async" in shown
    assert "needs an agenda" in shown
