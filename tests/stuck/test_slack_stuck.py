"""The stuck log on Slack, end to end: the real `unmeet serve` and `unmeet jobs run-due --now …` over real
HTTP, requests signed like Slack's, the loopback fake Slack Web API (Block Kit limits, single-use trigger
ids); SQLite and PostgreSQL. Start, record from the command and from the message shortcut, bad input
kept, the end-of-day question once, the status, the report without names or text, adopting it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio
import sqlalchemy as sa

from core.domain import stuck as rules
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
        for uid, name in (("U1", "Ann"), ("U2", "Bart"), ("U3", "Chris")):
            slack.add_user(uid, name.lower(), name)
        slack.add_user("U4", "eva", "Eva", locale="nl-BE")
        slack.add_channel("C1", "team", members=["U1", "U2", "U3", "U4"])
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET) as running:
            yield running


async def command(server, user: str, text: str) -> dict | None:
    """Type `/stuck text` in C1; the ephemeral reply (None when a modal opened instead)."""
    slack = server.slack
    before, views_before = len(slack.ephemerals), len(slack.calls_to("views.open"))
    status, _ = await server.post(slack_requests.slash_command("/stuck", text, user_id=user, channel_id="C1",
                                                               trigger_id=slack.new_trigger_id(user)))
    assert status == 200
    await slack.wait_for(lambda: len(slack.ephemerals) > before or len(slack.calls_to("views.open")) > views_before)
    return slack.ephemerals[-1] if len(slack.ephemerals) > before else None


async def form_of(server, user: str) -> dict:
    views = await server.slack.wait_for(lambda: [v for v in server.slack.open_views(user)
                                                 if v["callback_id"] == "stuck.form"])
    return views[-1]


async def ephemeral(server, needle: str) -> dict:
    found = await server.slack.wait_for(lambda: [e for e in server.slack.ephemerals if needle in texts(e)])
    return found[-1]


async def press(server, user: str, action: str, value: str, channel: str | None = "C1") -> None:
    status, _ = await server.post(slack_requests.block_action(action, value, user_id=user, channel_id=channel,
                                                              trigger_id=server.slack.new_trigger_id(user)))
    assert status == 200


async def entries(server) -> list:
    async with server.db.transaction() as conn:
        return (await conn.execute(sa.text(
            "SELECT m.external_id, e.what, e.kind, e.knew, e.waited FROM stuck_entries e "
            "JOIN members m ON m.id = e.member_id ORDER BY e.id"))).all()


def buttons(message: dict, action_id: str) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]
            if e.get("action_id") == action_id]


async def test_a_stuck_log_from_start_to_report(server):
    slack = server.slack
    days = rules.log_days(datetime.now(UTC), TZ, 2)
    assert "No stuck log is running" in texts(await command(server, "U1", ""))
    assert "1 to 30 working days" in texts(await command(server, "U1", "start 99"))
    reply = await command(server, "U1", "start 2")
    assert "runs 2 working days" in texts(reply)
    await server.run_due(datetime.now(UTC) + timedelta(seconds=5))
    [announcement] = await slack.wait_for(lambda: [m for m in slack.messages("C1") if "Stuck log" in texts(m)])
    assert "2 working days" in texts(announcement) and "I was stuck here" in texts(announcement)

    # From the command: the form opens with the text; a 5,000-character one keeps every character.
    assert await command(server, "U2", "The budget for the offsite") is None
    form = await form_of(server, "U2")
    assert form["blocks"][1]["element"]["initial_value"] == "The budget for the offsite"
    status, answer = await server.submit("U2", form, {"what": "b" * 5000})
    assert answer["response_action"] == "errors" and "it has 5000" in answer["errors"]["what"]
    assert set(answer["errors"]) == {"what", "kind", "knew", "waited"}
    values = {"what": "The budget for the offsite", "kind": "budget", "knew": "no", "waited": "day"}
    for _ in range(2):  # a second submit of the same form
        status, answer = await server.submit("U2", form, values)
        assert status == 200 and answer in (None, {"response_action": "clear"})
    await ephemeral(server, "noted already")

    # From the message shortcut: the form prefilled from the message.
    status, _ = await server.post(slack_requests.message_shortcut(
        "stuck_from_message", {"ts": "1700000000.000100", "text": "Can we ship the beta on Friday?"},
        user_id="U3", trigger_id=slack.new_trigger_id("U3")))
    assert status == 200
    form = await form_of(server, "U3")
    assert form["blocks"][1]["element"]["initial_value"] == "Can we ship the beta on Friday?"
    status, answer = await server.submit("U3", form, {"kind": "other", "knew": "unclear", "waited": "longer"})
    assert answer["errors"] == {"other": "Say what kind of decision it was."}
    status, answer = await server.submit("U3", form, {"kind": "other", "other": "release", "knew": "unclear",
                                                      "waited": "longer"})
    assert answer in (None, {"response_action": "clear"})
    await slack.wait_for(lambda: len(slack.ephemerals) and "Noted." in texts(slack.ephemerals[-1]))
    assert [tuple(row) for row in await entries(server)] == [
        ("U2", "The budget for the offsite", "budget", "no", "day"),
        ("U3", "Can we ship the beta on Friday?", "other", "unclear", "longer")]

    # Only your own entries in the status.
    shown = texts(await command(server, "U3", ""))
    assert "2 stuck moments" in shown and "Can we ship the beta" in shown and "offsite" not in shown

    # The last day's end-of-day question, once per person; "No", and "Yes, note it" opens the form.
    last = rules.at(days[-1], rules.NUDGE_TIME, TZ)
    await server.run_due(last + timedelta(minutes=1))
    await server.run_due(last + timedelta(minutes=2))
    asked = {user: [m for m in slack.dms(user) if "Were you stuck today" in texts(m)
                    or "Zat je vandaag vast" in texts(m)] for user in ("U1", "U2", "U3", "U4")}
    assert {user: len(found) for user, found in asked.items()} == {"U1": 1, "U2": 1, "U3": 1, "U4": 1}
    assert "Zat je vandaag vast" in texts(asked["U4"][0])
    [no] = buttons(asked["U1"][0], "stuck.not_stuck")
    await press(server, "U1", "stuck.not_stuck", no["value"], channel=None)
    await ephemeral(server, "Good to hear")
    [yes] = buttons(asked["U1"][0], "stuck.record")
    await press(server, "U1", "stuck.record", yes["value"], channel=None)
    form = await form_of(server, "U1")
    status, answer = await server.submit("U1", form, {"what": "Which tool for the survey", "kind": "technical",
                                                      "knew": "yes", "waited": "under_hour"})
    assert answer in (None, {"response_action": "clear"})
    await slack.wait_for(lambda: len(slack.ephemerals) and "Noted." in texts(slack.ephemerals[-1]))

    # The report at 17:00 of the last day: team-level, no names, no text; adopted as draft rules.
    await server.run_due(rules.report_due(days, TZ) + timedelta(minutes=1))
    [report] = await slack.wait_for(lambda: [m for m in slack.messages("C1") if "Who decides what" in texts(m)])
    shown = texts(report)
    assert "the team noted 3 stuck moments" in shown and "unknown or unclear 2 of 3 times" in shown
    assert "Budget and spending: name one person who decides" in shown
    assert "Technical choices: the one who decides answers within a working day" in shown
    for secret in ("offsite", "beta", "survey", "release", "Ann", "Bart", "Chris", "Eva"):
        assert secret not in shown
    [adopt] = buttons(report, "stuck.adopt")
    await press(server, "U1", "stuck.adopt", adopt["value"])
    adopted = await ephemeral(server, "Added 3 rules")
    assert "principle first" in texts(adopted)
    await press(server, "U2", "stuck.adopt", adopt["value"])
    await ephemeral(server, "in the agreement's draft already")
    async with server.db.transaction() as conn:
        rules_left = (await conn.execute(sa.text("SELECT text FROM agreement_rules ORDER BY id"))).scalars().all()
    assert len(rules_left) == 3


async def test_unknown_values_get_a_sentence_never_a_500(server):
    for action, value in (("stuck.record", "not-a-log"), ("stuck.adopt", "999999"), ("stuck.record", "")):
        await press(server, "U2", action, value, channel=None)
    await ephemeral(server, "That report is no longer stored")
    await ephemeral(server, "No stuck log is running")
    view = {"callback_id": "stuck.form", "private_metadata": "not-a-log|C1",
            "state": {"values": {"what": {"what": {"type": "plain_text_input", "value": "Kept text"}}}}}
    status, text = await server.post(slack_requests.view_submission(view, user_id="U2"))
    assert status == 200 and "has ended" in text and "nothing was saved" in text
