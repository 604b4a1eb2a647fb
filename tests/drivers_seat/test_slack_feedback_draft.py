"""The coach's "Draft feedback" on Slack with the LLM on, end to end: the real `unmeet serve` with the
loopback fakes of the Slack Web API and of the OpenAI endpoint. The draft fills the open modal; the
model sees the week's entries without names; nothing reaches the participant until the coach presses
Send."""

from __future__ import annotations

from datetime import timedelta

import pytest
import pytest_asyncio

from core.domain import drivers_seat as rules
from tests.drivers_seat.test_slack_drivers_seat import (TZ, as_date, button, dms_with, evenings, mornings, plan,
                                                        pressed_view, rate, run_of, seat)
from tests.fakes import slack_requests
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlackApi
from tests.slack_app.conftest import BOT_TOKEN, serving, submission

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(module_database_url, tmp_path_factory):
    async with FakeOpenAI() as llm, FakeSlackApi(BOT_TOKEN) as slack:
        slack.add_user("U1", "ann", "Ann Peeters")
        slack.add_user("U2", "cor", "Cor Visser")
        async with serving(slack, module_database_url, tmp_path_factory.mktemp("logs"),
                           SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=slack_requests.SIGNING_SECRET,
                           OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="", UNMEET_LLM_MODEL="fake-model",
                           UNMEET_LLM_TIMEOUT_SECONDS="5") as running:
            running.llm = llm
            yield running


async def test_the_coach_drafts_edits_and_only_send_reaches_the_participant(server):
    slack = server.slack
    await seat(server, "U1", "start 1")
    await seat(server, "U1", "share <@U2|cor>")
    first = as_date((await run_of(server, "U1")).first_day)
    await server.run_due(rules.morning(first, TZ) + timedelta(seconds=1))
    [morning] = await slack.wait_for(lambda: mornings(server, "U1"))
    await plan(server, "U1", morning, ("Write the plan with Ann's team", "Answer the support queue", "Expenses"))
    await server.run_due(rules.evening(first, TZ) + timedelta(seconds=1))
    [evening] = await slack.wait_for(lambda: evenings(server, "U1"))
    await rate(server, "U1", evening, ("green", "red", "green"), why="too many pings")
    [card] = await slack.wait_for(lambda: dms_with(server, "U2", "Ann Peeters's day"))

    view = await pressed_view(server, "U2", "seat.feedback", button(card, "seat.feedback")["value"],
                              "seat.feedback_form")
    [draft_button] = [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert draft_button["text"]["text"] == "Draft feedback"
    opened = next(v for v in reversed(slack.views.values()) if v["user_id"] == "U2")
    pressed = {**{k: v for k, v in opened.items() if k != "user_id"}, "state": submission(view, {})["state"]}
    updates, before = len(slack.calls_to("views.update")), len(slack.dms("U1"))
    status, _ = await server.post(slack_requests.block_action("seat.draft", draft_button["value"], user_id="U2",
                                                              view=pressed))
    assert status == 200
    await slack.wait_for(lambda: len(slack.calls_to("views.update")) > updates)
    drafted = slack.calls_to("views.update")[-1].params["view"]
    [field] = [b for b in drafted["blocks"] if b["type"] == "input"]
    text = field["element"]["initial_value"]
    assert text.startswith("You got “Write the plan with [person]'s team” done.") and "<@U1>" not in text
    assert len(text.split("\n\n")) == 3
    [call] = server.llm.prompts("draft_feedback/v1")
    assert "Ann" not in call.text and "Cor" not in call.text and "too many pings" in call.text
    assert len(slack.dms("U1")) == before  # nothing sent: the coach edits first

    edited = {**drafted, "id": opened["id"]}
    status, answer = await server.submit("U2", edited, {"feedback": text + "\n\nWell done this week — Cor"})
    assert answer in (None, {"response_action": "clear"})
    [feedback] = await slack.wait_for(lambda: dms_with(server, "U1", "Cor Visser has feedback"))
    assert "Well done this week — Cor" in str(feedback) and "reactive tasks turned red" in str(feedback)
